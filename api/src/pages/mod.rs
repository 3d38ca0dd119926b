//! The dashboard (contract section 14): server-rendered pages for ward leaders,
//! supervisors and admins, in Vietnamese first, served by the binary itself.
//!
//! Pages never call the API over HTTP and never repeat its queries: they take the signed-in
//! user's scope and call the same read services as the API's handlers, so the figures on a
//! page are the API's. Every answer carries a Content-Security-Policy that lets only the
//! binary's own script and style run.

pub mod assets;
pub mod assignments;
pub mod campaigns;
pub mod coverage;
pub mod form;
pub mod i18n;
pub mod imports;
pub mod login;
pub mod render;
pub mod session;
pub mod visits;

use actix_web::http::header::ACCEPT;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use self::render::PageError;
use self::session::language;

/// A page resource that answers an HTML 405 to methods it does not route.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let (lang, _) = language(&req);
    PageError {
        lang,
        kind: render::PageKind::MethodNotAllowed,
    }
    .error_response()
}

/// Whether an unknown path should be answered with the 404 page rather than problem+json:
/// outside `/api/`, for a client that asks for HTML (a browser).
pub fn wants_page(req: &HttpRequest) -> bool {
    !req.path().starts_with("/api/")
        && req
            .headers()
            .get(ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// The 404 page.
pub fn not_found(req: &HttpRequest) -> HttpResponse {
    let (lang, _) = language(req);
    PageError::not_found(lang).error_response()
}

/// Registers the dashboard's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/").route(web::get().to(campaigns::list)))
        .service(
            resource("/login")
                .route(web::get().to(login::form_page))
                .route(web::post().to(login::sign_in)),
        )
        .service(resource("/logout").route(web::post().to(login::sign_out)))
        .service(resource("/static/dashboard.css").route(web::get().to(assets::style)))
        .service(resource("/static/dashboard.js").route(web::get().to(assets::script)))
        .service(resource("/campaigns").route(web::get().to(campaigns::list)))
        .service(resource("/campaigns/{cid}").route(web::get().to(coverage::campaign_home)))
        .service(
            resource("/campaigns/{cid}/areas/{area_id}").route(web::get().to(coverage::area_page)),
        )
        .service(resource("/campaigns/{cid}/visits").route(web::get().to(visits::list)))
        .service(
            resource("/campaigns/{cid}/visits/{id}/review").route(web::post().to(visits::review)),
        )
        .service(
            resource("/campaigns/{cid}/assignments")
                .route(web::get().to(assignments::show))
                .route(web::post().to(assignments::assign)),
        )
        .service(
            resource("/campaigns/{cid}/assignments/{id}/delete")
                .route(web::post().to(assignments::unassign)),
        )
        .service(resource("/imports").route(web::get().to(imports::list)))
        .service(resource("/imports/{kind}").route(web::post().to(imports::upload)));
}
