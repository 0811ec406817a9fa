"""The API's layout (one module per resource) is invisible from outside: operation ids name the area and
the handler, not the file a handler is in, and each area keeps its tag."""

from __future__ import annotations

from tastemaker.api.urls import api


def _operations() -> dict[str, tuple[str, str, list[str]]]:
    schema = api.get_openapi_schema()
    return {op["operationId"]: (method.upper(), path, op.get("tags", []))
            for path, methods in schema["paths"].items() for method, op in methods.items()}


def test_operation_ids_name_the_area_not_the_resource_module():
    ops = _operations()
    expected = {
        "tastemaker_api_mastodon_get_status": ("GET", "/api/v1/statuses/{status_id}"),
        "tastemaker_api_mastodon_register": ("POST", "/api/v1/accounts"),
        "tastemaker_api_mastodon_notifications": ("GET", "/api/v1/notifications"),
        "tastemaker_api_mastodon_instance_v2": ("GET", "/api/v2/instance"),
        "tastemaker_api_showcase_create_store": ("POST", "/api/v1/tastemaker/showcase/stores"),
        "tastemaker_api_showcase_receive_webhook": ("POST", "/api/v1/showcase/stores/{store_id}/webhooks"),
        "tastemaker_api_payments_wallet": ("GET", "/api/v1/tastemaker/wallet"),
        "tastemaker_api_payments_reconcile_provider": ("POST", "/api/v1/tastemaker/ops/payments/reconcile"),
        "account_follow": ("POST", "/api/v1/accounts/{account_id}/follow"),
    }
    for op_id, (method, path) in expected.items():
        assert ops[op_id][:2] == (method, path), op_id
    modules = ("accounts", "statuses", "timelines", "stores", "cards", "wallet", "withdrawals", "ops")
    assert not [i for i in ops for m in modules if i.startswith(f"tastemaker_api_mastodon_{m}_")
                or i.startswith(f"tastemaker_api_showcase_{m}_") or i.startswith(f"tastemaker_api_payments_{m}_")]


def test_each_area_keeps_its_tag():
    tags = {path: t for _m, path, t in _operations().values()}
    assert tags["/api/v1/tastemaker/showcase/stores/{store_id}/deposit"] == ["Showcase"]
    assert tags["/api/v1/showcase/catalog"] == ["Showcase"]
    assert tags["/api/v1/tastemaker/wallet/transfers"] == ["Payments"]
    assert tags["/api/v1/timelines/home"] == ["timelines"]
    assert tags["/api/v1/tastemaker/fanservice/broadcasts"] == ["Fan service"]
