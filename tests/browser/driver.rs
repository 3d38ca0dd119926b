//! Headless Chromium driven over WebDriver (chromedriver), for tests that look at the
//! dashboard as a person would. Without `chromedriver` the browser tests are skipped with a
//! loud warning, unless `CANVASS_REQUIRE_BROWSER=1` (set by `.ci/run`) makes that a failure.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Map, Value};

fn required() -> bool {
    std::env::var("CANVASS_REQUIRE_BROWSER").is_ok_and(|v| v == "1" || v == "true")
}

fn chromedriver_path() -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromedriver"))
        .find(|candidate| candidate.is_file())
        .map(|p| p.display().to_string())
}

/// A chromedriver process and a browser session on it.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Browser {
    /// A new headless browser `width` × `height` pixels, or None (with a loud warning) when
    /// chromedriver is missing and not required.
    pub fn start(width: u32, height: u32) -> Option<Browser> {
        let Some(driver_path) = chromedriver_path() else {
            assert!(
                !required(),
                "CANVASS_REQUIRE_BROWSER is set but chromedriver is not installed \
                 (apt-get install chromium chromium-driver)"
            );
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! chromedriver is not installed: the BROWSER tests are SKIPPED.\n\
                 !!! Install Debian's chromium and chromium-driver, or set\n\
                 !!! CANVASS_REQUIRE_BROWSER=1 to make this a failure (CI does).\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            return None;
        };
        let port = free_port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut options = Map::new();
        options.insert(
            "args".into(),
            json!([
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--hide-scrollbars",
                "--lang=vi",
                format!("--window-size={width},{height}"),
            ]),
        );
        if std::path::Path::new("/usr/bin/chromium").exists() {
            options.insert("binary".into(), json!("/usr/bin/chromium"));
        }
        let mut caps = Map::new();
        caps.insert("goog:chromeOptions".into(), Value::Object(options));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = runtime.block_on(async {
            loop {
                let connector = hyper_util::client::legacy::connect::HttpConnector::new();
                match ClientBuilder::new(connector)
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await
                {
                    Ok(client) => break client,
                    Err(err) => {
                        assert!(
                            Instant::now() < deadline,
                            "chromedriver did not start: {err}"
                        );
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        Some(Browser {
            runtime,
            client: Some(client),
            driver,
        })
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("browser session")
    }

    /// Opens `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.runtime
            .block_on(self.client().goto(url))
            .expect("goto");
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.runtime
            .block_on(self.client().current_url())
            .expect("url")
            .to_string()
    }

    /// The page's HTML source.
    pub fn source(&self) -> String {
        self.runtime
            .block_on(self.client().source())
            .expect("source")
    }

    /// The visible text of the first element matching `css`.
    pub fn text(&self, css: &str) -> String {
        self.runtime.block_on(async {
            self.client()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css}: {e}"))
                .text()
                .await
                .expect("text")
        })
    }

    /// Whether an element matches `css`.
    pub fn exists(&self, css: &str) -> bool {
        self.runtime.block_on(async {
            !self
                .client()
                .find_all(Locator::Css(css))
                .await
                .expect("find_all")
                .is_empty()
        })
    }

    /// Types `text` into the first element matching `css`.
    pub fn fill(&self, css: &str, text: &str) {
        self.runtime.block_on(async {
            let element = self
                .client()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css}: {e}"));
            element.clear().await.ok();
            element.send_keys(text).await.expect("send_keys");
        });
    }

    /// Chooses the option with `value` in the select matching `css`.
    pub fn select(&self, css: &str, value: &str) {
        self.runtime.block_on(async {
            let element = self
                .client()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css}: {e}"));
            element.select_by_value(value).await.expect("select");
        });
    }

    /// Clicks the first element matching `css` and waits for the next page when it navigates.
    pub fn click(&self, css: &str) {
        self.runtime.block_on(async {
            self.client()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css}: {e}"))
                .click()
                .await
                .expect("click");
        });
    }

    /// Accepts a `confirm()` dialog.
    pub fn accept_dialog(&self) {
        self.runtime
            .block_on(self.client().accept_alert())
            .expect("accept dialog");
    }

    /// Waits until an element matches `css` (pages load in a few milliseconds; the bound
    /// only keeps a broken page from hanging the suite).
    pub fn wait_for(&self, css: &str) {
        self.runtime.block_on(async {
            self.client()
                .wait()
                .at_most(Duration::from_secs(20))
                .for_element(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
        });
    }

    /// Resizes the window (for screenshots of a whole page).
    pub fn resize(&self, width: u32, height: u32) {
        self.runtime
            .block_on(self.client().set_window_size(width, height))
            .expect("resize");
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        self.runtime
            .block_on(self.client().screenshot())
            .expect("screenshot")
    }

    /// Signs in through the login form and waits for the campaign list.
    pub fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.goto(&format!("{base}/login"));
        self.fill("#username", username);
        self.fill("#password", password);
        self.click("form.login button[type=submit]");
        self.wait_for("form[action='/logout']");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
