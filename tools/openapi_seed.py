"""Seeds a fresh canvass server for tools/openapi-check.sh: a province with one ward, a
street, a volunteer assigned to it in a campaign, and one household with a visit, so that
schemathesis reaches past 404 into every operation. Prints `export NAME=id` lines.

Usage: python3 openapi_seed.py BASE_URL ADMIN_TOKEN
"""

import json
import sys
import time
import urllib.request
import uuid


VOLUNTEER_USERNAME = "tnv.kiemtra"
VOLUNTEER_PASSWORD = "mat-khau-kiem-tra"


def call(base, token, method, path, body):
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def main():
    base, token = sys.argv[1], sys.argv[2]
    post = lambda path, body: call(base, token, "POST", path, body)
    province = post("/api/v1/areas", {"code": "CHK", "name": "Tỉnh Kiểm Tra", "level": "province"})
    ward = post(
        "/api/v1/areas",
        {"code": "CHK01", "name": "Phường Một", "level": "ward", "parent_id": province["id"]},
    )
    street = post("/api/v1/streets", {"ward_id": ward["id"], "code": "CHK01-S1", "name": "Ngõ 1"})
    volunteer = post(
        "/api/v1/users",
        {
            "username": VOLUNTEER_USERNAME,
            "password": VOLUNTEER_PASSWORD,
            "display_name": "Tình nguyện viên",
            "role": "volunteer",
            "area_id": ward["id"],
        },
    )
    campaign = post(
        "/api/v1/campaigns",
        {
            "name": "Kiểm tra",
            "area_id": province["id"],
            "target_ratio": 0.6,
            "starts_on": "2026-01-01",
            "deadline": "2027-12-31",
        },
    )
    assignment = post(
        f"/api/v1/campaigns/{campaign['id']}/assignments",
        {"street_id": street["id"], "volunteer_id": volunteer["id"]},
    )
    # The deterministic household id of section 7: UUIDv5(street, norm("12")).
    household = str(uuid.uuid5(uuid.UUID(street["id"]), "12"))
    visit = str(uuid.uuid4())
    hlc = f"{int(time.time() * 1000):013d}-0000-seed"
    stamp = lambda value: {"value": value, "hlc": hlc}
    pushed = post(
        "/api/v1/sync/push",
        {
            "campaign_id": campaign["id"],
            "device_id": "seed",
            "changes": [
                {"kind": "household", "id": household, "street_id": street["id"],
                 "fields": {"house_number": stamp("12")}},
                {"kind": "visit", "id": visit, "street_id": street["id"],
                 "household_id": household,
                 "fields": {"outcome": stamp("installed_now"),
                            "visited_at": stamp("2026-06-01T09:30:00+07:00"),
                            "smartphone_users": stamp(3), "app_users": stamp(2)}},
            ],
        },
    )
    statuses = [result["status"] for result in pushed["results"]]
    if statuses != ["applied", "applied"]:
        sys.exit(f"seeding push: {pushed}")
    for name, value in [
        ("CHECK_PROVINCE", province["id"]),
        ("CHECK_WARD", ward["id"]),
        ("CHECK_STREET", street["id"]),
        ("CHECK_VOLUNTEER", volunteer["id"]),
        ("CHECK_VOLUNTEER_USERNAME", VOLUNTEER_USERNAME),
        ("CHECK_VOLUNTEER_PASSWORD", VOLUNTEER_PASSWORD),
        ("CHECK_CAMPAIGN", campaign["id"]),
        ("CHECK_ASSIGNMENT", assignment["id"]),
        ("CHECK_VISIT", visit),
    ]:
        print(f"export {name}={value}")


main()
