"""The reference API's log masking processor (images/api/rae_api/masking.py, seed 000 SEC-03, A.8.11): an allow-list."""

import importlib.util
from pathlib import Path

from components import api_runtime

REPO = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("rae_api_masking", REPO / "images/api/rae_api/masking.py")
masking = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(masking)


def test_fields_off_the_list_are_masked_whatever_they_hold():
    event = masking.mask_personal_data(None, "info", {"event": "memory.stored", "content": "my diary", "query": "x",
                                                      "headers": {"Authorization": "Bearer t"}, "tenant": "alpha"})
    assert event == {"event": "memory.stored", "content": masking.MASK, "query": masking.MASK,
                     "headers": masking.MASK, "tenant": "alpha"}


def test_email_addresses_are_replaced_in_listed_fields_too():
    event = masking.mask_personal_data(None, "info", {"event": "could not reach carol.o'neil+x@mail.example.co.uk",
                                                      "reason": "user a.b@c.de"})
    assert "example" not in event["event"] and "c.de" not in event["reason"]
    assert event["event"].endswith(masking.EMAIL_MASK)


def test_listed_numbers_and_id_lists_pass_and_other_structures_do_not():
    event = masking.mask_personal_data(None, "info", {"memory_ids": [3, 1], "status": 201, "count": ["secret"]})
    assert event == {"memory_ids": [3, 1], "status": 201, "count": masking.MASK}


def test_the_api_images_healthcheck_probes_the_runtimes_port():
    dockerfile = (REPO / "images/api/Dockerfile").read_text()
    assert f"/dev/tcp/127.0.0.1/{api_runtime.LISTEN_PORT}" in dockerfile
    assert api_runtime.healthcheck().test[-1].endswith(f"/{api_runtime.LISTEN_PORT}")
