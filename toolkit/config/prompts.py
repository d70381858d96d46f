"""The question prompt of each subject: the text of the HUMAN turn in every example and question.

It is rendered once per subject by a jinja2 template: toolkit's own
(``templates/configs/prompt_zh.j2``, ``prompt_en.j2``) or the user's ``--prompt-template``.
The result goes into the config verbatim, and OpenCompass fills ``{question}``, ``{A}``…
from each row at run time (plain ``str.replace``: other braces stay as written).

Variables a prompt template gets:

``hint``
    the instruction line for this subject: ``--hint`` (or the language's default) with
    ``{name_zh}``, ``{name_en}``, ``{subject}``, ``{category}`` and ``{options}`` filled in;
``subject``
    ``subject.key``, ``subject.name_en``, ``subject.name_zh``, ``subject.category``;
``letters``
    the option letters, a list: ``['A', 'B', 'C', 'D']``;
``options``
    the letters as words: ``"A, B, C or D"``;
``dataset``, ``language``
    the dataset's name and ``"zh"`` / ``"en"``.

The template must write ``{question}`` and ``{A}``, ``{B}``… for every option letter;
rendering uses ``trim_blocks`` and ``lstrip_blocks`` (a line holding only a block tag
leaves nothing behind) and drops a single newline at the end of the file, so the
prompt ends exactly where the model's answer should start. Templates render in jinja2's
sandbox: one that reaches for Python internals (``__globals__``, ``__class__``…) is an
error, never run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from toolkit.dataset.mapping import Subject
from toolkit.errors import UsageError
from toolkit.resources import templates_dir

DEFAULT_HINTS = {
    "zh": "以下是中国关于{name_zh}考试的单项选择题，请选出其中的正确答案。",
    "en": "There is a single choice question about {name_en}. Answer the question by replying {options}.",
}
"""The instruction line: OpenCompass's C-Eval text (zh) and its MMLU text (en, with our subject names)."""

_PROMPT_TEMPLATES = {"zh": "prompt_zh.j2", "en": "prompt_en.j2"}


def options_text(letters: Sequence[str]) -> str:
    """``"A, B, C or D"`` for four letters, ``"A or B"`` for two.

    Example:
        >>> options_text(["A", "B", "C"])
        'A, B or C'
    """
    return f"{', '.join(letters[:-1])} or {letters[-1]}"


def fill_hint(hint: str, subject: Subject, letters: Sequence[str]) -> str:
    """``hint`` with this subject's placeholders filled (others, like ``{question}``, stay).

    Example:
        >>> fill_hint("关于{name_zh}（{subject}）", Subject("law", "Law", "法学", "Humanities"), "ABCD")
        '关于法学（law）'
    """
    values = {
        "name_zh": subject.name_zh,
        "name_en": subject.name_en,
        "subject": subject.key,
        "category": subject.category,
        "options": options_text(letters),
    }
    for key, value in values.items():
        hint = hint.replace(f"{{{key}}}", value)
    return hint


def _environment(folder: Path) -> jinja2.Environment:
    # A prompt template may come from anyone: the sandbox refuses attributes such as __globals__
    # ({{ cycler.__init__.__globals__.os.system(...) }} would run a command in a plain Environment).
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )


def load_prompt_template(language: str, template_file: str | Path | None = None) -> jinja2.Template:
    """The prompt template: ``template_file`` if given, else toolkit's default for ``language``."""
    if template_file is None:
        return _environment(templates_dir() / "configs").get_template(_PROMPT_TEMPLATES[language])
    path = Path(template_file).expanduser()
    if not path.is_file():
        raise UsageError("prompt template not found", file=path, hint="pass the path of a jinja2 file")
    try:
        return _environment(path.resolve().parent).get_template(path.name)
    except jinja2.TemplateSyntaxError as err:
        raise UsageError(f"jinja2 syntax error: {err.message}", file=path, line=err.lineno) from None


def _check_prompt(text: str, letters: Sequence[str], source: str, subject: str) -> None:
    absent = [p for p in ("{question}", *(f"{{{letter}}}" for letter in letters)) if p not in text]
    if absent:
        raise UsageError(
            f"the prompt for subject {subject!r} lacks {', '.join(absent)}: the model would not see that part of the question",
            file=source,
            hint="write {question} and one {A}, {B}, … per option letter into the template",
        )


def render_prompts(
    subjects: Sequence[Subject],
    *,
    dataset: str,
    language: str,
    letters: Sequence[str],
    hint: str | None = None,
    template_file: str | Path | None = None,
) -> dict[str, str]:
    """The question prompt of each subject, keyed by subject, in the given order.

    Example:
        >>> p = render_prompts([Subject("law", "Law", "法学", "Humanities")], dataset="x", language="zh", letters="AB")
        >>> p["law"]
        '以下是中国关于法学考试的单项选择题，请选出其中的正确答案。\\n{question}\\nA. {A}\\nB. {B}\\n答案: '
    """
    template = load_prompt_template(language, template_file)
    source = str(template_file) if template_file is not None else template.filename or "prompt template"
    base_hint = DEFAULT_HINTS[language] if hint is None else hint
    prompts: dict[str, str] = {}
    for subject in subjects:
        try:
            text = template.render(
                hint=fill_hint(base_hint, subject, letters),
                subject=subject,
                letters=list(letters),
                options=options_text(letters),
                dataset=dataset,
                language=language,
            )
        except jinja2.UndefinedError as err:
            raise UsageError(
                f"the prompt template uses an unknown variable ({err.message})",
                file=source,
                hint="available: hint, subject, letters, options, dataset, language",
            ) from None
        except SecurityError as err:
            raise UsageError(
                f"the prompt template reaches into Python internals, which templates may not ({err})",
                file=source,
                hint="use only the variables hint, subject, letters, options, dataset, language and jinja2 filters",
            ) from None
        _check_prompt(text, letters, source, subject.key)
        prompts[subject.key] = text
    return prompts
