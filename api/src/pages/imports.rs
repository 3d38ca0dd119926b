//! `GET /imports` and `POST /imports/{areas|streets|households}`: CSV imports through the
//! API's import services, with the line-numbered error shown next to its form.

use actix_multipart::Multipart;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use maud::{html, Markup};

use super::form::Form;
use super::i18n::Lang;
use super::render::{page, redirect, respond, PageError};
use super::session::{CookieSecure, Viewer};
use crate::error::ApiError;
use crate::http::body::CSV_LIMIT;
use crate::services::imports::{self as service, ImportKind};
use crate::state::AppState;

/// The other fields of an upload are short.
const FIELD_LIMIT: usize = 4096;

const KINDS: [ImportKind; 3] = [
    ImportKind::Areas,
    ImportKind::Streets,
    ImportKind::Households,
];

fn slug(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Areas => "areas",
        ImportKind::Streets => "streets",
        ImportKind::Households => "households",
    }
}

fn kind_of(slug: &str) -> Option<ImportKind> {
    KINDS.into_iter().find(|kind| self::slug(*kind) == slug)
}

fn heading(l: Lang, kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Areas => l.pick("Địa bàn hành chính", "Areas"),
        ImportKind::Streets => l.pick("Tuyến đường, ngõ, hẻm", "Streets"),
        ImportKind::Households => l.pick("Hộ gia đình", "Households"),
    }
}

fn explanation(l: Lang, kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Areas => l.pick(
            "Tỉnh, quận/huyện, phường/xã theo mã của Tổng cục Thống kê. Địa bàn cha có thể nằm sau trong tệp.",
            "Provinces, districts and wards by their statistics-office codes. Parents may come later in the file.",
        ),
        ImportKind::Streets => l.pick(
            "Mỗi dòng một tuyến đường (tổ dân phố, khu phố, ngõ, hẻm) của một phường/xã.",
            "One street (alley, ngõ or hẻm) of a ward per line.",
        ),
        ImportKind::Households => l.pick(
            "Mỗi dòng một hộ: mã tuyến đường và số nhà. Không ghi tên, số điện thoại hay số giấy tờ.",
            "One household per line: street code and house number. No names, phone or ID numbers.",
        ),
    }
}

/// What happened to the last upload of one kind.
enum Outcome {
    Done(String),
    Failed(String),
}

fn render(viewer: &Viewer, kinds: &[ImportKind], last: Option<(ImportKind, Outcome)>) -> Markup {
    let l = viewer.lang;
    html! {
        p.muted { (l.pick(
            "Tệp CSV mã hoá UTF-8, dòng đầu là tiêu đề. Mỗi lần nhập là trọn gói: có một dòng lỗi thì không dòng nào được ghi.",
            "UTF-8 CSV files with a header line. Each import is all or nothing: one wrong line and nothing is written.")) }
        div.imports {
            @for kind in kinds {
                section.card id={ "import-" (slug(*kind)) } {
                    h2 { (heading(l, *kind)) }
                    p.legend { (explanation(l, *kind)) }
                    p.legend { (l.pick("Tiêu đề: ", "Header: ")) code { (kind.columns().join(",")) } }
                    @if let Some((done_kind, outcome)) = &last {
                        @if done_kind == kind {
                            @match outcome {
                                Outcome::Done(text) => { p.ok role="status" { (text) } }
                                Outcome::Failed(text) => { p.error role="alert" data-import-error { (text) } }
                            }
                        }
                    }
                    form method="post" action={ "/imports/" (slug(*kind)) } enctype="multipart/form-data" {
                        input type="hidden" name="csrf_token" value=(viewer.csrf_token);
                        input type="file" name="file" accept=".csv,text/csv" required
                            aria-label=(heading(l, *kind));
                        button type="submit" { (l.pick("Tải lên và nhập", "Upload and import")) }
                    }
                }
            }
        }
    }
}

/// The imports this viewer may run (403 when none).
fn allowed(viewer: &Viewer) -> Result<Vec<ImportKind>, PageError> {
    let scope = viewer
        .caller
        .scope()
        .map_err(|e| PageError::from_api(viewer.lang, e))?;
    let kinds: Vec<ImportKind> = KINDS
        .into_iter()
        .filter(|kind| kind.permit(&scope).is_ok())
        .collect();
    if kinds.is_empty() {
        return Err(PageError::from_api(
            viewer.lang,
            ApiError::forbidden("no import for this role"),
        ));
    }
    Ok(kinds)
}

fn show(
    viewer: &Viewer,
    secure: CookieSecure,
    status: StatusCode,
    last: Option<(ImportKind, Outcome)>,
) -> Result<HttpResponse, PageError> {
    let kinds = allowed(viewer)?;
    let title = viewer.lang.pick("Nhập dữ liệu từ tệp CSV", "CSV imports");
    Ok(respond(
        status,
        page(viewer.frame(title), render(viewer, &kinds, last)),
        viewer.remember_lang,
        secure,
    ))
}

/// `GET /imports` (`?done=KIND&created=N&updated=N` after an upload).
pub async fn list(
    req: HttpRequest,
    viewer: Viewer,
    secure: web::Data<CookieSecure>,
) -> Result<HttpResponse, PageError> {
    let l = viewer.lang;
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| value.parse::<i64>().ok())
    };
    let last = pairs
        .iter()
        .find(|(key, _)| key == "done")
        .and_then(|(_, value)| kind_of(value))
        .map(|kind| {
            let created = l.count(get("created").unwrap_or(0));
            let text = match get("updated") {
                Some(updated) => format!(
                    "{} {created} · {} {}",
                    l.pick("Đã nhập xong. Thêm mới:", "Imported. Created:"),
                    l.pick("cập nhật:", "updated:"),
                    l.count(updated)
                ),
                None => format!(
                    "{} {created} · {} {}",
                    l.pick("Đã nhập xong. Thêm mới:", "Imported. Created:"),
                    l.pick("đã có từ trước:", "already there:"),
                    l.count(get("existing").unwrap_or(0))
                ),
            };
            (kind, Outcome::Done(text))
        });
    show(&viewer, **secure, StatusCode::OK, last)
}

/// Reads the upload's fields: the CSV of `file` (at most 64 MiB) and the short ones.
async fn read_upload(
    mut multipart: Multipart,
    lang: Lang,
) -> Result<(Form, Option<Vec<u8>>), PageError> {
    let mut fields = Vec::new();
    let mut file = None;
    while let Some(field) = multipart.next().await {
        let mut field =
            field.map_err(|e| PageError::from_api(lang, ApiError::InvalidJson(e.to_string())))?;
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "file" {
            CSV_LIMIT
        } else {
            FIELD_LIMIT
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk
                .map_err(|e| PageError::from_api(lang, ApiError::InvalidJson(e.to_string())))?;
            if bytes.len() + chunk.len() > limit {
                return Err(PageError::from_api(
                    lang,
                    ApiError::PayloadTooLarge("upload too large".into()),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "file" {
            file.get_or_insert(bytes);
        } else {
            fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok((Form::from_pairs(fields), file))
}

/// A failure shown next to the form: `Dòng 3: …` for the line the import names.
fn failure_text(l: Lang, detail: &str) -> String {
    match detail.strip_prefix("line ") {
        Some(rest) => format!("{} {rest}", l.pick("Dòng", "Line")),
        None => detail.to_owned(),
    }
}

/// `POST /imports/{kind}`: a multipart upload with `csrf_token` and `file`; 303 to
/// `/imports` with the counts, or 422 with the page and the line-numbered error.
pub async fn upload(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    secure: web::Data<CookieSecure>,
    path: web::Path<String>,
    multipart: Multipart,
) -> Result<HttpResponse, PageError> {
    let l = viewer.lang;
    let kind = kind_of(&path).ok_or_else(|| PageError::not_found(l))?;
    let is_multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(PageError::from_api(
            l,
            ApiError::UnsupportedMediaType("expected multipart/form-data".into()),
        ));
    }
    let (form, file) = read_upload(multipart, l).await?;
    viewer.check_csrf(form.get("csrf_token"))?;
    let scope = viewer
        .caller
        .scope()
        .map_err(|e| PageError::from_api(l, e))?;
    kind.permit(&scope).map_err(|e| PageError::from_api(l, e))?;
    let failed = |text: String| {
        show(
            &viewer,
            **secure,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some((kind, Outcome::Failed(text))),
        )
    };
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return failed(
            l.pick("Hãy chọn một tệp CSV.", "Choose a CSV file.")
                .to_owned(),
        );
    };
    let Ok(text) = String::from_utf8(file) else {
        return failed(
            l.pick(
                "Tệp không phải CSV mã hoá UTF-8.",
                "The file is not UTF-8 CSV.",
            )
            .to_owned(),
        );
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned();
    let rows = match kind.parse(&text) {
        Ok(rows) => rows,
        Err(ApiError::Validation(detail)) => return failed(failure_text(l, &detail)),
        Err(other) => return Err(PageError::from_api(l, other)),
    };
    let done = match kind {
        ImportKind::Areas => state
            .db
            .write(move |conn| service::import_areas(conn, &scope, &rows))
            .await
            .map(|c| {
                format!(
                    "/imports?done=areas&created={}&updated={}",
                    c.created, c.updated
                )
            }),
        ImportKind::Streets => state
            .db
            .write(move |conn| service::import_streets(conn, &scope, &rows))
            .await
            .map(|c| {
                format!(
                    "/imports?done=streets&created={}&updated={}",
                    c.created, c.updated
                )
            }),
        ImportKind::Households => {
            let hlc = state.tick();
            let done = state
                .db
                .write(move |conn| service::import_households(conn, &scope, &rows, &hlc))
                .await;
            if let Ok((_, Some(max))) = &done {
                state.witness(max);
            }
            done.map(|(c, _)| {
                format!(
                    "/imports?done=households&created={}&existing={}",
                    c.created, c.existing
                )
            })
        }
    };
    match done {
        Ok(location) => Ok(redirect(StatusCode::SEE_OTHER, &location)),
        Err(ApiError::Validation(detail) | ApiError::Conflict(detail)) => {
            failed(failure_text(l, &detail))
        }
        Err(other) => Err(PageError::from_api(l, other)),
    }
}
