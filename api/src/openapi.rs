//! The OpenAPI 3.1 document, assembled from the handlers' `#[utoipa::path]` annotations and
//! then completed with what the contract says of every endpoint alike (sections 2 and 12):
//! the error answers each kind of endpoint can give, as `application/problem+json`.
//!
//! Handlers declare what is theirs (success bodies, 409, 429); [`document`] adds the rest
//! by rule, so a new endpoint cannot forget its 401 or its 415.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::PROBLEM_CODES;
use crate::routes;

mod sync_schemas;

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(title = "canvass", description = "Offline door-to-door campaign backend: wire contract v1.1."),
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
        routes::exports::visits_csv, routes::exports::visits_geojson,
        routes::coverage::coverage, routes::coverage::coverage_csv, routes::coverage::progress,
        routes::ops::healthz, routes::ops::readyz, routes::ops::metrics, routes::ops::openapi,
    ),
    components(schemas(
        crate::error::Problem, crate::model::RoleName, crate::model::OutcomeName,
        crate::model::ReviewName, crate::model::Verdict,
    )),
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

/// The served document, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
        complete(&mut doc);
        doc
    })
}

/// The methods the document lists for a route pattern, as an `Allow` header value
/// (`GET, POST`); None for a route it does not describe.
pub fn allowed_methods(pattern: &str) -> Option<String> {
    let item = document().get("paths")?.get(pattern)?.as_object()?;
    let methods: Vec<String> = item
        .keys()
        .filter(|key| HTTP_METHODS.contains(&key.as_str()))
        .map(|method| method.to_ascii_uppercase())
        .collect();
    (!methods.is_empty()).then(|| methods.join(", "))
}

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Operations that never touch the database, so never answer 503.
const WITHOUT_DATABASE: &[&str] = &["healthz", "metrics", "getOpenApiDocument"];

/// Operations every signed-in role may call: they never answer 403.
const EVERY_ROLE: &[&str] = &["getMe", "logout"];

/// One shared error answer: its status, component name and what it means.
struct ErrorAnswer {
    status: &'static str,
    name: &'static str,
    description: &'static str,
}

const ANSWERS: &[ErrorAnswer] = &[
    ErrorAnswer {
        status: "400",
        name: "InvalidJson",
        description: "`invalid_json`: the body does not parse, or could not be read.",
    },
    ErrorAnswer {
        status: "401",
        name: "Unauthorized",
        description: "`unauthorized`: a missing, malformed, forged or expired token, a \
                      disabled user's, or (login, refresh) wrong credentials.",
    },
    ErrorAnswer {
        status: "403",
        name: "Forbidden",
        description: "`forbidden`: the caller's role may not call this endpoint, or the id is \
                      outside the caller's area scope.",
    },
    ErrorAnswer {
        status: "404",
        name: "NotFound",
        description: "`not_found`: an id in the path is malformed or unknown, or an id in a \
                      query filter or the body names nothing.",
    },
    ErrorAnswer {
        status: "408",
        name: "RequestTimeout",
        description: "`request_timeout`: the body did not arrive within the server's body \
                      timeout; nothing of it was applied. Send it again.",
    },
    ErrorAnswer {
        status: "409",
        name: "Conflict",
        description: "`conflict`: the username, code or assignment already exists.",
    },
    ErrorAnswer {
        status: "413",
        name: "PayloadTooLarge",
        description: "`payload_too_large`: the body (after decompression) is over its limit: \
                      2 MiB for JSON, 64 MiB for a CSV import, 1000 changes for a push.",
    },
    ErrorAnswer {
        status: "415",
        name: "UnsupportedMediaType",
        description: "`unsupported_media_type`: the body's Content-Type is not the one this \
                      endpoint takes (JSON, or `text/csv` for imports).",
    },
    ErrorAnswer {
        status: "422",
        name: "Validation",
        description: "`validation`: the body or a query parameter parses but breaks a rule.",
    },
    ErrorAnswer {
        status: "429",
        name: "RateLimited",
        description: "`rate_limited`: too many failed logins; retry after `Retry-After` \
                      seconds.",
    },
    ErrorAnswer {
        status: "500",
        name: "Internal",
        description: "`internal`: a bug; details are in the server's log.",
    },
    ErrorAnswer {
        status: "503",
        name: "Unavailable",
        description: "`unavailable`: the database cannot be reached; nothing was applied. \
                      Retry after `Retry-After` seconds.",
    },
];

fn answer_ref(status: &str) -> Option<Value> {
    ANSWERS
        .iter()
        .find(|a| a.status == status)
        .map(|a| json!({"$ref": format!("#/components/responses/{}", a.name)}))
}

/// The shared error answers, each a `Problem` as `application/problem+json`.
fn error_responses() -> Map<String, Value> {
    let retry_after = json!({
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": true,
            "schema": {"type": "string", "pattern": "^[0-9]+$"}
        }
    });
    ANSWERS
        .iter()
        .map(|answer| {
            let mut response = json!({
                "description": answer.description,
                "content": {
                    "application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/Problem"}
                    }
                }
            });
            if matches!(answer.status, "429" | "503") {
                response["headers"] = retry_after.clone();
            }
            (answer.name.to_owned(), response)
        })
        .collect()
}

/// Adds what the contract says of every endpoint of a kind, and turns every error answer
/// an annotation declared into the shared problem+json one.
fn complete(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut() {
            if let Some(operation) = operation.as_object_mut() {
                complete_operation(path, operation);
            }
        }
    }
    if let Some(problem) = doc.pointer_mut("/components/schemas/Problem") {
        problem_constraints(problem);
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.extend(sync_schemas::schemas());
        sync_schemas::constrain_bodies(schemas);
    }
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        components.insert("responses".to_owned(), Value::Object(error_responses()));
    }
}

fn complete_operation(path: &str, operation: &mut Map<String, Value>) {
    let id = operation
        .get("operationId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let secured = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let has_body = operation.contains_key("requestBody");
    let mut has_query = false;
    let mut names_a_resource = path.contains('{');
    if let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    {
        for parameter in parameters.iter_mut().filter(|p| p["in"] == "query") {
            has_query = true;
            // An empty filter (`?ward_id=`, as an HTML form sends it) is no filter.
            parameter["allowEmptyValue"] = Value::Bool(true);
            // A filter naming an id that does not exist is 404 like a path id (section 2).
            names_a_resource |= parameter["schema"]["format"] == "uuid";
        }
    }
    let mut statuses: Vec<&str> = vec!["500"];
    if !WITHOUT_DATABASE.contains(&id.as_str()) {
        statuses.push("503");
    }
    if secured {
        statuses.push("401");
        if !EVERY_ROLE.contains(&id.as_str()) {
            statuses.push("403");
        }
    }
    if names_a_resource {
        statuses.push("404");
    }
    if has_body {
        statuses.extend(["400", "408", "413", "415", "422"]);
    }
    if has_query {
        statuses.push("422");
    }
    let responses = operation.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else {
        return;
    };
    for status in statuses {
        responses.entry(status).or_insert(Value::Null);
    }
    for (status, response) in responses.iter_mut() {
        if status.starts_with('4') || status.starts_with('5') {
            if let Some(shared) = answer_ref(status) {
                *response = shared;
            }
        }
    }
}

/// The `Problem` schema with the contract's codes and statuses.
fn problem_constraints(problem: &mut Value) {
    problem["properties"]["code"]["enum"] = json!(PROBLEM_CODES);
    problem["properties"]["status"]["minimum"] = json!(400);
    problem["properties"]["status"]["maximum"] = json!(599);
    problem["properties"]["type"]["format"] = json!("uri");
}
