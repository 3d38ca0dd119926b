//! The served OpenAPI document has what a client generator (Kotlin, Swift, TypeScript)
//! needs without hand edits (contract section 12, "OpenAPI"). The full check against the
//! running server is `tools/openapi-check.sh` (openapi-spec-validator and schemathesis).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::TestApp;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation of the document: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut found = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((method.to_owned(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

/// A response, its `$ref` to `#/components/responses/…` followed.
fn resolved<'a>(doc: &'a Value, response: &'a Value) -> &'a Value {
    match response["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            doc.pointer(pointer)
                .unwrap_or_else(|| panic!("{reference} does not resolve"))
        }
        None => response,
    }
}

fn document(app: &TestApp) -> Value {
    app.send("GET", "/api/v1/openapi.json", None, None, None)
        .expect(200)
        .body
}

fn operation_ids_are_unique_identifiers(app: TestApp) {
    let doc = document(&app);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (method, path, operation) in operations(&doc) {
        let where_ = format!("{} {path}", method.to_uppercase());
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{where_} has no operationId"));
        assert!(
            id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{where_}: operationId {id:?} is not a plain camelCase identifier"
        );
        if let Some(other) = seen.insert(id.to_owned(), where_.clone()) {
            panic!("operationId {id:?} is used by {other} and {where_}");
        }
    }
    assert!(seen.len() >= 30, "only {} operations", seen.len());
}

fn every_parameter_is_declared_in_its_real_place(app: TestApp) {
    let doc = document(&app);
    for (method, path, operation) in operations(&doc) {
        let where_ = format!("{} {path}", method.to_uppercase());
        let in_path: Vec<&str> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.split('}').next())
            .collect();
        let params = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let declared = |place: &str| -> Vec<String> {
            params
                .iter()
                .filter(|p| p["in"] == place)
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        };
        let path_params = declared("path");
        for name in &in_path {
            assert!(
                path_params.iter().any(|p| p == name),
                "{where_}: {{{name}}} is not declared `in: path`"
            );
        }
        for name in &path_params {
            assert!(
                in_path.contains(&name.as_str()),
                "{where_}: {name} is declared `in: path` but is not in the path"
            );
        }
        for param in &params {
            assert!(
                param["schema"].is_object(),
                "{where_}: parameter {} has no schema",
                param["name"]
            );
        }
    }
    let list = operations(&doc)
        .into_iter()
        .find(|(m, p, _)| m == "get" && p == "/api/v1/campaigns/{cid}/visits")
        .expect("the visit list");
    let query = declared_query(&list.2);
    for name in [
        "ward_id",
        "street_id",
        "page_size",
        "page_token",
        "include_deleted",
    ] {
        assert!(
            query.contains(&name.to_owned()),
            "visit list: {name} is not a query parameter"
        );
    }
}

fn declared_query(operation: &Value) -> Vec<String> {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect()
}

fn error_answers_are_problem_json_and_common_statuses_are_declared(app: TestApp) {
    let doc = document(&app);
    for (method, path, operation) in operations(&doc) {
        let where_ = format!("{} {path}", method.to_uppercase());
        let responses = operation["responses"].as_object().expect("responses");
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let content = resolved(&doc, response)["content"]
                .as_object()
                .unwrap_or_else(|| panic!("{where_} {status}: no content"));
            let types: Vec<&String> = content.keys().collect();
            assert_eq!(
                types,
                ["application/problem+json"],
                "{where_} {status}: error bodies are problem+json"
            );
        }
        let declares = |status: &str| responses.contains_key(status);
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        assert_eq!(
            secured,
            !matches!(
                path.as_str(),
                "/api/v1/auth/login"
                    | "/api/v1/auth/refresh"
                    | "/api/v1/openapi.json"
                    | "/healthz"
                    | "/readyz"
                    | "/metrics"
            ),
            "{where_}: needs a bearer token exactly when the contract says so"
        );
        if secured {
            assert!(declares("401"), "{where_}: 401 is not declared");
        }
        if path.contains('{') {
            assert!(declares("404"), "{where_}: 404 is not declared");
        }
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(declares(status), "{where_}: {status} is not declared");
            }
        }
        assert!(declares("500"), "{where_}: 500 is not declared");
    }
    let login = &doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"];
    let login = resolved(&doc, login);
    assert!(
        login["headers"]["Retry-After"].is_object(),
        "429 carries Retry-After: {login}"
    );
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
}

/// A schema property, `$ref`s to `#/components/schemas/…` followed.
fn property<'a>(doc: &'a Value, schema: &str, path: &[&str]) -> &'a Value {
    let mut at = &doc["components"]["schemas"][schema];
    for step in path {
        at = &at[*step];
        while let Some(reference) = at["$ref"].as_str() {
            at = doc
                .pointer(reference.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{reference} does not resolve"));
        }
    }
    at
}

fn the_contracts_limits_are_schema_constraints(app: TestApp) {
    let doc = document(&app);
    let username = property(&doc, "NewUser", &["properties", "username"]);
    assert_eq!(
        (
            username["minLength"].as_u64(),
            username["maxLength"].as_u64()
        ),
        (Some(1), Some(64))
    );
    assert_eq!(
        property(&doc, "NewUser", &["properties", "password"])["minLength"],
        8
    );
    assert_eq!(
        property(&doc, "NewArea", &["properties", "code"])["maxLength"],
        32
    );
    assert_eq!(
        property(&doc, "NewStreet", &["properties", "code"])["maxLength"],
        64
    );
    let ratio = property(&doc, "NewCampaign", &["properties", "target_ratio"]);
    assert_eq!(
        (
            ratio["exclusiveMinimum"].as_f64(),
            ratio["maximum"].as_f64()
        ),
        (Some(0.0), Some(1.0))
    );
    let changes = property(&doc, "PushRequest", &["properties", "changes"]);
    assert_eq!(changes["maxItems"], 1000);
    let fields = [
        "properties",
        "changes",
        "items",
        "properties",
        "fields",
        "properties",
    ];
    let field = |name: &str, step: &str| {
        let mut path = fields.to_vec();
        path.extend([name, "properties", step]);
        property(&doc, "PushRequest", &path).clone()
    };
    assert_eq!(field("smartphone_users", "value")["maximum"], 50);
    assert_eq!(field("note", "value")["maxLength"], 500);
    assert_eq!(field("house_number", "value")["maxLength"], 40);
    assert_eq!(field("lat", "value")["minimum"].as_f64(), Some(-90.0));
    let hlc = field("outcome", "hlc");
    let pattern = hlc["pattern"].as_str().expect("an HLC pattern");
    assert!(pattern.contains("{13}"), "{pattern}");
    let device = property(&doc, "PushRequest", &["properties", "device_id"]);
    assert_eq!(device["maxLength"], 64);
    assert_eq!(device["not"]["const"], "server");
    let limit = property(&doc, "PullRequest", &["properties", "limit"]);
    assert_eq!(limit["minimum"], 0);
    let page_size = doc["paths"]["/api/v1/campaigns/{cid}/visits"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "page_size")
        .unwrap()["schema"]
        .clone();
    assert_eq!(
        (page_size["minimum"].as_u64(), page_size["maximum"].as_u64()),
        (Some(1), Some(1000))
    );
}

fn only_the_api_and_operations_are_documented(app: TestApp) {
    let doc = document(&app);
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..4]), Some("3.1."));
    for path in doc["paths"].as_object().expect("paths").keys() {
        assert!(
            path.starts_with("/api/v1/")
                || ["/healthz", "/readyz", "/metrics"].contains(&path.as_str()),
            "{path}: dashboard pages are not part of the API document"
        );
    }
}

crate::both_backends!(
    operation_ids_are_unique_identifiers,
    every_parameter_is_declared_in_its_real_place,
    error_answers_are_problem_json_and_common_statuses_are_declared,
    the_contracts_limits_are_schema_constraints,
    only_the_api_and_operations_are_documented,
);
