"""``toolkit eval``'s API and vLLM flags → models and the run's backend.

``--api-base URL --api-model NAME…`` make one :class:`~toolkit.config.spec.ModelSpec` per
name, each with an :class:`~toolkit.config.api_spec.ApiSpec`: the server, the *name* of the
key's environment variable (``--api-key-env``; never the key), ``--api-concurrency``,
``--qps``, ``--api-timeout`` and ``--api-retries``. ``--hf-type`` chooses the semantics as
for local models: ``chat`` sends OpenCompass's message lists to ``/chat/completions``,
``base`` its prompt text to ``/completions``. ``--backend vllm`` and OpenCompass's
``-a vllm`` run the ``--hf-path`` models with vLLM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.config.api_spec import DEFAULT_KEY_ENV, ApiSpec, check_env_name, normalise_base_url
from toolkit.config.spec import ModelSpec
from toolkit.errors import UsageError

if TYPE_CHECKING:
    from toolkit.cli.eval_options import EvalOptions

ACCELERATORS = {"vllm": "vllm", "hf": "hf", "huggingface": "hf"}


def run_backend(opts: EvalOptions) -> str:
    """The backend of ``--hf-path`` models: ``--backend``, or OpenCompass's ``-a/--accelerator``."""
    if opts.backend == "api":
        raise UsageError("--backend api is chosen by --api-base and --api-model",
                         hint="e.g. --api-base http://127.0.0.1:8000/v1 --api-model NAME")
    if opts.accelerator is None:
        return opts.backend
    accelerator = opts.accelerator.lower()
    if accelerator not in ACCELERATORS:
        raise UsageError(f"-a/--accelerator {opts.accelerator} is not supported",
                         hint="use -a vllm (or --backend vllm), or leave it out for transformers")
    if opts.backend not in ("hf", ACCELERATORS[accelerator]):
        raise UsageError(f"-a {opts.accelerator} and --backend {opts.backend} disagree", hint="give one of them")
    return ACCELERATORS[accelerator]


def _api_flags_without_models(opts: EvalOptions) -> list[str]:
    flags = (("--api-base", opts.api_base), ("--api-key-env", opts.api_key_env),
             ("--api-concurrency", opts.api_concurrency), ("--qps", opts.qps), ("--api-timeout", opts.api_timeout),
             ("--api-retries", opts.api_retries))
    return [flag for flag, value in flags if value is not None]


def api_spec(opts: EvalOptions) -> ApiSpec:
    """The server and how to ask it, from the flags (defaults: the spec's)."""
    if not opts.api_base:
        raise UsageError("--api-model needs --api-base URL", hint="e.g. --api-base http://127.0.0.1:8000/v1")
    given: dict[str, Any] = {k: v for k, v in (("concurrency", opts.api_concurrency), ("qps", opts.qps),
                                               ("timeout", opts.api_timeout), ("max_retries", opts.api_retries))
                             if v is not None}
    return ApiSpec(base_url=normalise_base_url(opts.api_base),
                   key_env=check_env_name(opts.api_key_env) if opts.api_key_env else DEFAULT_KEY_ENV,
                   key_required=opts.api_key_env is not None, **given)


def api_models(opts: EvalOptions) -> list[ModelSpec]:
    """One model per ``--api-model`` (its abbr: ``--model-abbr`` for one, else the name with ``/`` as ``_``)."""
    if not opts.api_models:
        stray = _api_flags_without_models(opts)
        if stray:
            raise UsageError(f"{stray[0]} needs --api-model NAME", hint="name the model the server serves")
        return []
    api = api_spec(opts)
    settings = {name: getattr(opts, name) for name in ("max_seq_len", "max_out_len", "batch_size")
                if getattr(opts, name) is not None}
    models = []
    for i, name in enumerate(opts.api_models):
        if len(opts.api_models) == 1 and opts.model_abbr:
            abbr = opts.model_abbr
        else:
            abbr = f"{opts.model_abbr}-{i}" if opts.model_abbr else name.replace("/", "_")
        models.append(ModelSpec(
            abbr=abbr, path=name, hf_type="chat" if opts.hf_type == "chat" else "base",
            tokenizer_path=opts.tokenizer_path, stop_words=tuple(opts.stop_words), num_gpus=0, api=api,
            set_by={key: "cli" if key in settings else "default" for key in ("max_seq_len", "max_out_len", "batch_size")},
            **settings,
        ))
    return models
