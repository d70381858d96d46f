"""The one backend registry: what the engine asks of a backend, and a missing optional dependency."""

from __future__ import annotations

import pytest

from toolkit.config.spec import ModelSpec
from toolkit.errors import MissingDependencyError, UsageError
from toolkit.models import BACKENDS, Backend, get_backend, load_model
from toolkit.models.base import LanguageModel
from toolkit.models.fake import FakeModel


def test_the_registered_backends_and_what_the_engine_asks_of_them():
    assert list(BACKENDS) == ["hf", "vllm", "api", "fake"]  # vllm and api: issue 12
    assert get_backend("hf").local_files and get_backend("hf").torch_device
    assert not get_backend("fake").local_files and not get_backend("fake").torch_device
    vllm, api = get_backend("vllm"), get_backend("api")
    assert vllm.local_files and not vllm.torch_device and vllm.extra == "vllm" and vllm.own_python
    assert not api.local_files and not api.torch_device and api.extra is None
    model = load_model(ModelSpec(abbr="m", path="p"), "fake")
    assert isinstance(model, FakeModel) and isinstance(model, LanguageModel)
    with pytest.raises(UsageError, match="unknown model backend 'lmdeploy'.*use one of hf, vllm, api, fake"):
        get_backend("lmdeploy")


def test_a_backend_whose_extra_is_not_installed_says_which_to_install(monkeypatch):
    def load(spec, **kwargs):
        raise ModuleNotFoundError("No module named 'vllm'", name="vllm")

    monkeypatch.setitem(BACKENDS, "vllm", Backend("vllm", load, extra="vllm"))
    with pytest.raises(MissingDependencyError) as err:
        load_model(ModelSpec(abbr="m", path="p"), "vllm")
    assert "the vllm backend needs the package 'vllm'" in str(err.value) and 'toolkit[vllm]' in str(err.value)
    assert err.value.exit_code == 2


def test_the_cli_offers_exactly_the_registered_backends(cli, monkeypatch):
    result = cli("eval", "--datasets", "x", "--hf-path", "y", "--backend", "nope")
    assert result.exit_code == 2 and "'hf', 'vllm', 'api', 'fake'" in result.stderr
