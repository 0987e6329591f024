"""The pages and batch results of the API are generated, one schema per resource
(recovery.api.schemas.page_schema / batch_result_schema), under the names clients know."""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma

from recovery.api.schemas import (
    Amount,
    ItemSchema,
    ReceiptSchema,
    batch_result_schema,
    page_schema,
)

# The components clients' generated code is named after, and the operations answering them.
PAGES = {
    "/api/v1/counterparties": "Counterparty",
    "/api/v1/projects": "Project",
    "/api/v1/items": "Item",
    "/api/v1/receipts": "Receipt",
    "/api/v1/cases": "Case",
    "/api/v1/activities": "Activity",
}
BATCHES = {"/api/v1/items/batch": "Item", "/api/v1/receipts/batch": "Receipt"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(document: dict, path: str, method: str, status: str) -> dict:
    content = document["paths"][path][method]["responses"][status]["content"]
    return content["application/json"]["schema"]


def test_each_resource_has_one_page_and_one_batch_result_named_after_it():
    assert page_schema(ItemSchema) is page_schema(ItemSchema)
    assert page_schema(ItemSchema).__name__ == "ItemPage"
    assert batch_result_schema(ReceiptSchema) is batch_result_schema(ReceiptSchema)
    assert batch_result_schema(ReceiptSchema).__name__ == "ReceiptBatchResult"
    assert page_schema(ItemSchema) is not page_schema(ReceiptSchema)


def test_a_new_resource_gets_its_page_in_one_line():
    class WidgetSchema(ma.Schema):
        id = ma.fields.Integer()
        price = Amount()

    page = page_schema(WidgetSchema)
    assert page.__name__ == "WidgetPage"
    assert list(page().fields) == ["data", "pagination"]
    body = {"data": [{"id": 1, "price": Decimal("12.5")}], "pagination": {"page": 1}}
    assert page().dump(body) == {"data": [{"id": 1, "price": "12.50"}], "pagination": {"page": 1}}
    result = batch_result_schema(WidgetSchema)
    assert list(result().fields) == ["data", "count"]
    assert result().dump({"data": [{"id": 2}], "count": 1}) == {"data": [{"id": 2}], "count": 1}


def test_the_document_names_pages_and_batch_results_as_before(client):
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    for path, resource in PAGES.items():
        name = f"{resource}Page"
        assert _answer(document, path, "get", "200") == _ref(name), path
        assert components[name] == {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "data": {"type": "array", "items": _ref(resource)},
                "pagination": _ref("Pagination"),
            },
        }
    for path, resource in BATCHES.items():
        name = f"{resource}BatchResult"
        assert _answer(document, path, "post", "201") == _ref(name), path
        assert components[name] == {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "data": {"type": "array", "items": _ref(resource)},
                "count": {"type": "integer"},
            },
        }
    # No stray component (e.g. "ItemPage1" from a second class of the same name).
    generated = {n for n in components if n.endswith(("Page", "BatchResult"))}
    expected = {f"{r}Page" for r in PAGES.values()} | {f"{r}BatchResult" for r in BATCHES.values()}
    assert generated == expected | {"AgingPage"}
