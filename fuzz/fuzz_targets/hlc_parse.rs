//! HLC text: parsing never panics, and whatever parses prints back to the same text and
//! orders consistently with its parts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_protocol::Hlc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(hlc) = text.parse::<Hlc>() {
        assert_eq!(
            hlc.to_string(),
            text,
            "an accepted HLC must print back as it was written"
        );
        let again: Hlc = hlc.to_string().parse().expect("printed HLC parses");
        assert_eq!(again, hlc);
        assert_eq!(
            Hlc::new(hlc.ms(), hlc.counter(), hlc.node()).ok().as_ref(),
            Some(&hlc),
            "parts rebuild the same HLC"
        );
    }
});
