"""Small datasets and OpenCompass-style configs for engine tests, written into a temp folder."""

from __future__ import annotations

from pathlib import Path

from toolkit.dataset.textio import read_csv, write_csv

HEADER = ("id", "question", "A", "B", "C", "D", "answer")

CONFIG = """\
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever
from opencompass.openicl.icl_inferencer import {inferencer}
from opencompass.openicl.icl_evaluator import AccEvaluator
from opencompass.datasets import CEvalDataset
from opencompass.utils.text_postprocessors import first_capital_postprocess

{name}_subject_mapping = {{
    'values': ['Core Socialist Values', '社会主义核心价值观', 'Social Science'],
    'values_copy': ['Core Socialist Values copy', '社会主义核心价值观', 'Humanities'],
}}

{name}_datasets = []
for _name in {name}_subject_mapping:
    _ch_name = {name}_subject_mapping[_name][1]
    _turn = f'以下是中国关于{{_ch_name}}考试的单项选择题，请选出其中的正确答案。\\n{{{{question}}}}\\nA. {{{{A}}}}\\nB. {{{{B}}}}\\nC. {{{{C}}}}\\nD. {{{{D}}}}\\n答案: '
    {name}_datasets.append(dict(
        type=CEvalDataset,
        path={path!r},
        name=_name,
        abbr='{name}-' + _name,
        reader_cfg=dict(input_columns=['question', 'A', 'B', 'C', 'D'], output_column='answer',
                        train_split='dev', test_split='val'),
        infer_cfg=dict(
            ice_template=dict(type=PromptTemplate, template={template}, ice_token='</E>'),
            retriever=dict(type=FixKRetriever, fix_id_list=[0, 1, 2, 3, 4]),
            inferencer=dict(type={inferencer})),
        eval_cfg=dict(evaluator=dict(type=AccEvaluator){post}),
    ))
del _name, _ch_name, _turn
"""

GEN_TEMPLATE = "dict(begin='</E>', round=[dict(role='HUMAN', prompt=_turn), dict(role='BOT', prompt='{answer}')])"
PPL_TEMPLATE = ("{a: dict(begin='</E>', round=[dict(role='HUMAN', prompt=_turn), dict(role='BOT', prompt=a)]) "
                "for a in ['A', 'B', 'C', 'D']}")


def seed_rows(seed_csv: Path, *, strip: bool = True) -> list[tuple[str, ...]]:
    """The seed bank's rows (stripped of stray whitespace unless ``strip`` is False)."""
    table, _ = read_csv(seed_csv)
    return [tuple(c.strip() for c in r) if strip else r for r in table.rows]


def write_dataset(root: Path, rows: list[tuple[str, ...]], *, val_copies: int = 2, subjects=("values", "values_copy"),
                  dev: list[tuple[str, ...]] | None = None) -> Path:
    """dev = the first 5 rows, val = the others repeated ``val_copies`` times (ids renumbered), test = header only."""
    dev = dev if dev is not None else rows[:5]
    val = [(str(i), *r[1:]) for i, r in enumerate(rows[5:] * val_copies)]
    for subject in subjects:
        write_csv(root / "dev" / f"{subject}_dev.csv", (*HEADER, "explanation"), [(*r, "") for r in dev])
        write_csv(root / "val" / f"{subject}_val.csv", HEADER, val)
        write_csv(root / "test" / f"{subject}_test.csv", HEADER, [])
    return root


def write_configs(config_dir: Path, data_dir: Path, name: str = "seed") -> dict[str, Path]:
    """``<config_dir>/datasets/<name>/<name>_{gen,ppl}.py`` pointing at ``data_dir``."""
    folder = config_dir / "datasets" / name
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for mode, inferencer, template, post in (
        ("gen", "GenInferencer", GEN_TEMPLATE, ", pred_postprocessor=dict(type=first_capital_postprocess)"),
        ("ppl", "PPLInferencer", PPL_TEMPLATE, ""),
    ):
        path = folder / f"{name}_{mode}.py"
        path.write_text(CONFIG.format(name=name, path=str(data_dir), inferencer=inferencer, template=template, post=post),
                        encoding="utf-8")
        out[mode] = path
    return out
