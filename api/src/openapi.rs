//! The OpenAPI document, assembled from the handlers' `#[utoipa::path]` annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(title = "canvass", description = "Offline door-to-door campaign backend: wire contract v1."),
    paths(
        routes::auth::login, routes::auth::refresh_tokens, routes::auth::logout, routes::auth::me,
        routes::users::create, routes::users::list, routes::users::update,
        routes::areas::create, routes::areas::get, routes::areas::list, routes::areas::streets_of,
        routes::areas::import,
        routes::streets::create, routes::streets::import, routes::households::import,
        routes::campaigns::create, routes::campaigns::list, routes::campaigns::get,
        routes::assignments::create, routes::assignments::list, routes::assignments::delete,
        routes::assignments::unassigned,
        routes::sync::push, routes::sync::pull,
        routes::visits::list, routes::visits::history_of, routes::visits::review,
        routes::coverage::coverage, routes::coverage::coverage_csv, routes::coverage::progress,
        routes::ops::healthz, routes::ops::readyz, routes::ops::metrics, routes::ops::openapi,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
