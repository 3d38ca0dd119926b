// A small, dependency-free viewer for the server's OpenAPI document.
"use strict";

function el(tag, attrs, children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  (children || []).forEach((c) => node.append(c));
  return node;
}

function resolve(spec, schema) {
  if (schema && schema.$ref) {
    const name = schema.$ref.split("/").pop();
    return { name, schema: spec.components.schemas[name] };
  }
  return { name: null, schema };
}

function schemaText(spec, schema) {
  const { name, schema: s } = resolve(spec, schema);
  return (name ? name + " " : "") + JSON.stringify(s, null, 2);
}

function render(spec, filter) {
  const main = document.getElementById("operations");
  main.replaceChildren();
  Object.entries(spec.paths).forEach(([path, ops]) => {
    Object.entries(ops).forEach(([method, op]) => {
      const tags = (op.tags || []).join(", ");
      if (filter && !(path + " " + tags).toLowerCase().includes(filter)) return;
      const body = el("div");
      if (op.description || op.summary) body.append(el("p", {}, [op.description || op.summary]));
      (op.parameters || []).forEach((p) => body.append(el("p", {}, ["parameter ", el("code", {}, [p.name]), " in " + p.in])));
      const content = op.requestBody && op.requestBody.content;
      if (content) {
        Object.entries(content).forEach(([type, media]) => {
          body.append(el("p", {}, ["request body (" + type + ")"]));
          body.append(el("pre", {}, [schemaText(spec, media.schema)]));
        });
      }
      Object.entries(op.responses || {}).forEach(([status, response]) => {
        body.append(el("p", {}, [el("strong", {}, [status]), " " + (response.description || "")]));
      });
      main.append(el("details", {}, [
        el("summary", {}, [el("span", { class: "method " + method }, [method]), el("code", {}, [path]), el("span", { class: "tag" }, [tags])]),
        body,
      ]));
    });
  });
}

fetch("/api/v1/openapi.json")
  .then((r) => r.json())
  .then((spec) => {
    render(spec, "");
    document.getElementById("filter").addEventListener("input", (e) => render(spec, e.target.value.toLowerCase()));
  })
  .catch((e) => { document.getElementById("operations").textContent = "Cannot load the API description: " + e; });
