//! Every route of the API, wired in one place.

pub mod areas;
pub mod assignments;
pub mod auth;
pub mod campaigns;
pub mod coverage;
pub mod exports;
pub mod households;
pub mod ops;
pub mod streets;
pub mod sync;
pub mod users;
pub mod visits;

use actix_web::web;

use crate::http::problems;

/// A resource that answers 405 for methods it does not route.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(problems::method_not_allowed))
}

/// Registers all routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(problems::query_error))
        .app_data(web::PathConfig::default().error_handler(problems::path_error))
        .app_data(web::JsonConfig::default().error_handler(problems::json_error))
        .service(resource("/healthz").route(web::get().to(ops::healthz)))
        .service(resource("/readyz").route(web::get().to(ops::readyz)))
        .service(resource("/metrics").route(web::get().to(ops::metrics)))
        .service(resource("/docs").route(web::get().to(ops::docs_page)))
        .service(resource("/docs/docs.js").route(web::get().to(ops::docs_script)))
        .service(resource("/docs/docs.css").route(web::get().to(ops::docs_style)))
        .service(
            web::scope("/api/v1")
                .service(resource("/openapi.json").route(web::get().to(ops::openapi)))
                .service(resource("/auth/login").route(web::post().to(auth::login)))
                .service(resource("/auth/refresh").route(web::post().to(auth::refresh_tokens)))
                .service(resource("/auth/logout").route(web::post().to(auth::logout)))
                .service(resource("/me").route(web::get().to(auth::me)))
                .service(
                    resource("/users")
                        .route(web::post().to(users::create))
                        .route(web::get().to(users::list)),
                )
                .service(resource("/users/{id}").route(web::patch().to(users::update)))
                .service(resource("/areas/import").route(web::post().to(areas::import)))
                .service(
                    resource("/areas")
                        .route(web::post().to(areas::create))
                        .route(web::get().to(areas::list)),
                )
                .service(resource("/areas/{id}").route(web::get().to(areas::get)))
                .service(resource("/areas/{id}/streets").route(web::get().to(areas::streets_of)))
                .service(resource("/streets/import").route(web::post().to(streets::import)))
                .service(resource("/streets").route(web::post().to(streets::create)))
                .service(resource("/households/import").route(web::post().to(households::import)))
                .service(
                    resource("/campaigns")
                        .route(web::post().to(campaigns::create))
                        .route(web::get().to(campaigns::list)),
                )
                .service(resource("/campaigns/{id}").route(web::get().to(campaigns::get)))
                .service(
                    resource("/campaigns/{cid}/assignments")
                        .route(web::post().to(assignments::create))
                        .route(web::get().to(assignments::list)),
                )
                .service(
                    resource("/campaigns/{cid}/assignments/{id}")
                        .route(web::delete().to(assignments::delete)),
                )
                .service(
                    resource("/campaigns/{cid}/streets/unassigned")
                        .route(web::get().to(assignments::unassigned)),
                )
                .service(resource("/sync/push").route(web::post().to(sync::push)))
                .service(resource("/sync/pull").route(web::post().to(sync::pull)))
                .service(resource("/campaigns/{cid}/visits").route(web::get().to(visits::list)))
                .service(
                    resource("/campaigns/{cid}/visits.csv")
                        .route(web::get().to(exports::visits_csv)),
                )
                .service(
                    resource("/campaigns/{cid}/visits.geojson")
                        .route(web::get().to(exports::visits_geojson)),
                )
                .service(
                    resource("/campaigns/{cid}/visits/{id}/history")
                        .route(web::get().to(visits::history_of)),
                )
                .service(
                    resource("/campaigns/{cid}/visits/{id}/review")
                        .route(web::post().to(visits::review)),
                )
                .service(
                    resource("/campaigns/{cid}/coverage").route(web::get().to(coverage::coverage)),
                )
                .service(
                    resource("/campaigns/{cid}/coverage.csv")
                        .route(web::get().to(coverage::coverage_csv)),
                )
                .service(
                    resource("/campaigns/{cid}/progress").route(web::get().to(coverage::progress)),
                )
                .default_service(web::to(problems::unknown_route)),
        )
        .configure(crate::pages::configure)
        .default_service(web::to(unknown_path));
}

/// An unknown path: the 404 page for a browser outside `/api/`, problem+json otherwise.
async fn unknown_path(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    if crate::pages::wants_page(&req) {
        crate::pages::not_found(&req)
    } else {
        crate::error::ApiError::NotFound("no such route".into()).error_response()
    }
}
