"""The names hubs import from `kundo.crm` exist and are the real service functions."""

import importlib

import kundo.crm


def test_every_public_name_resolves_to_its_module():
    for name in kundo.crm.__all__:
        value = getattr(kundo.crm, name)
        assert value is getattr(importlib.import_module(kundo.crm._PUBLIC[name]), name)


def test_an_unknown_name_is_an_attribute_error():
    try:
        kundo.crm.no_such_thing  # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("expected AttributeError")
