"""Inference for one dataset (:class:`DatasetInference`): prompts → model requests → prediction records.

Three modes:

* ``gen`` — greedy generation (OpenCompass's GenInferencer). Generation stops at
  EOS, at stop strings, and — unless disabled — as soon as the dataset's
  post-processor can no longer change its answer; a base model also stops where it
  starts writing the next example (its header line, derived from the prompt).
* ``ppl`` — each label's full prompt is scored; the prediction is the label with
  the lowest average token loss over the whole sequence (OpenCompass's PPLInferencer).
* ``choice`` — the gen prompt completed by each option letter; the prediction is
  the letter whose own tokens are most likely (lm-evaluation-harness's
  log-likelihood multiple choice). One forward pass per question.

Records (:mod:`toolkit.engine.inference.records`) carry ``index`` (test row),
``origin_prompt``, ``prediction``, ``gold`` and diagnostics (examples used, tokens, scores).

A circular dataset (``DatasetSpec.circular``) is inferred over its rearranged test rows
(:func:`test_rows`): every question once per pattern, the gold moved with the options, and
each record also carries OpenCompass's ``qid`` and ``circular_pattern``. The in-context
examples are never rearranged, so every variant keeps the subject's shared prefix.

A backend that sends text (an HTTP API: ``text_prompts``) gets each request's rendered
prompt instead of token ids. Its requests can fail one by one (after their retries):
such a question's record carries ``error`` and no prediction, and counts as not done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from toolkit.config.spec import DatasetSpec
from toolkit.engine.data import as_dataset_rows
from toolkit.engine.inference.records import (
    Record,
    base_record,
    dataset_postprocessor,
    header_stop,
    ppl_record,
    render_for,
    resolve_mode,
)
from toolkit.engine.params import InferParams
from toolkit.engine.prompting import (
    Prompt,
    PromptBuilder,
    QuestionPrompt,
    circular_rows,
    ice_key,
    to_base_text,
    to_length_messages,
    variant_of,
)
from toolkit.engine.prompting.circular import PATTERN, QID, check_circular
from toolkit.errors import UsageError
from toolkit.models.base import GenRequest, LanguageModel, ScoreRequest, ScoreResult

CHUNK_QUESTIONS = 2048
"""Prompts and requests are built this many questions at a time, so memory stays flat however
large a dataset is (each chunk still shares its few-shot prefix)."""


def test_rows(dataset: DatasetSpec, splits: Mapping[str, Sequence[Mapping[str, str]]]) -> Sequence[Mapping[str, Any]]:
    """The rows a dataset's predictions are indexed by: its test split, or for a circular dataset every
    question once per pattern (row ``qid * V + p``), built from the split as OpenCompass's table holds it."""
    rows = splits.get(dataset.reader.test_split, [])
    if dataset.circular is None:
        return rows
    check_circular(dataset.circular, dataset.abbr)
    return circular_rows(as_dataset_rows(rows), dataset.circular, dataset.reader.output_column)


class DatasetInference:
    """Prompts and requests for one dataset and one model, built and run chunk by chunk."""

    def __init__(self, model: LanguageModel, dataset: DatasetSpec, splits: Mapping[str, Sequence[Mapping[str, str]]],
                 params: InferParams, indices: Sequence[int] | None = None, *,
                 chunk_size: int = CHUNK_QUESTIONS) -> None:
        self.model = model
        self.dataset = dataset
        self.params = params
        self.mode = resolve_mode(dataset, params)
        reader = dataset.reader
        test = test_rows(dataset, splits)
        self.indices = list(range(len(test))) if indices is None else sorted(indices)
        self.chunk_size = max(1, chunk_size)
        self.postprocessor = dataset_postprocessor(dataset)
        self.too_long: list[int] = []
        """Test rows whose prompt is too long even without examples (kept whole), filled while running."""
        generation = self.mode != "ppl"
        reserve = params.max_out_len if params.reserve_output and self.mode == "gen" else 0
        max_seq_len = params.max_seq_len

        def count(prompt: Prompt) -> int:
            if model.hf_type == "chat":  # OpenCompass counts the turns joined into one user message
                rendered: Any = to_length_messages(prompt, "gen" if generation else "ppl")
            else:
                rendered = to_base_text(prompt)
            return model.count_tokens(rendered, generation=True)

        self.prompts = PromptBuilder(dataset, splits.get(reader.train_split, []), test, mode=self.mode,
                                     count_tokens=count if max_seq_len else None, max_seq_len=max_seq_len,
                                     reserve=reserve)

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def text_prompts(self) -> bool:
        """The model reads rendered text, not token ids (requests carry ``prompt`` / ``prompts``)."""
        return bool(getattr(self.model, "text_prompts", False))

    def _tokens(self, rendered: Any, *, generation: bool) -> tuple[int, ...]:
        return () if self.text_prompts else self.model.encode(rendered, generation=generation)

    def _batching(self) -> dict[str, int]:
        """The dataset's own batch size for the backend, when its config sets one (else the model's applies)."""
        return {} if self.params.batch_size is None else {"batch_size": self.params.batch_size}

    def run(self, progress: Callable[[int], None] | None = None) -> Iterator[list[Record]]:
        """Yield prediction records batch by batch."""
        for start in range(0, len(self.indices), self.chunk_size):
            questions = self.prompts.build(self.indices[start:start + self.chunk_size])
            self.too_long += [q.index for q in questions if q.over_length]
            batches = self._run_gen(questions, progress) if self.mode == "gen" else self._run_scores(questions, progress)
            for records in batches:
                yield self._with_variant(records)

    def _with_variant(self, records: list[Record]) -> list[Record]:
        """A circular dataset's records name their question and pattern (OpenCompass's ``qid``, ``circular_pattern``)."""
        spec = self.dataset.circular
        if spec is not None:
            for rec in records:
                rec[QID], rec[PATTERN] = variant_of(rec["index"], spec)
        return records

    # -- gen --------------------------------------------------------------------------
    def _run_gen(self, questions: list[QuestionPrompt], progress: Callable[[int], None] | None) -> Iterator[list[Record]]:
        p = self.params
        inferencer_stops = tuple(self.dataset.infer.inferencer.stopping_criteria)
        requests, origin = [], {}
        decided = self.postprocessor.is_decided if p.early_stop and self.postprocessor.name else None
        for k, q in enumerate(questions):
            rendered = render_for(self.model, q.prompt, generation=True)
            stops = tuple(dict.fromkeys(inferencer_stops + p.stop_words))
            if p.early_stop and isinstance(rendered, str) and q.ice_ids:
                extra = header_stop(rendered)
                stops = stops + ((extra,) if extra and extra not in stops else ())
            tokens = self._tokens(rendered, generation=True)
            origin[k] = (rendered, len(tokens))
            requests.append(GenRequest(k, tokens, p.max_out_len, p.min_out_len, stops, decided,
                                       group=(self.dataset.abbr, ice_key(q)),
                                       prompt=rendered if self.text_prompts else None))
        for batch in self.model.generate(requests, progress, **self._batching()):
            out = []
            for res in batch:
                q = questions[res.key]
                n_tokens = res.prompt_tokens if res.prompt_tokens is not None else origin[res.key][1]
                rec = base_record(q, origin[res.key][0], n_tokens)
                if res.error is not None:
                    rec.update(error=res.error)
                else:
                    rec.update(prediction=res.text, stop_reason=res.stop_reason, new_tokens=res.new_tokens)
                out.append(rec)
            yield out

    # -- ppl / choice -----------------------------------------------------------------
    def _run_scores(self, questions: list[QuestionPrompt], progress: Callable[[int], None] | None) -> Iterator[list[Record]]:
        generation = self.mode == "choice"
        requests, origin = [], {}
        for k, q in enumerate(questions):
            if not q.label_prompts:
                raise UsageError(f"{self.dataset.abbr}: no labels to score in {self.mode} mode",
                                 hint="the template needs option columns (A, B, …) or label-keyed prompts")
            rendered = [render_for(self.model, lp, generation=False) for lp in q.label_prompts.values()]
            cands = tuple(self._tokens(r, generation=False) for r in rendered)
            shown = render_for(self.model, q.prompt, generation=generation) if generation else rendered[0]
            origin[k] = (shown, len(cands[0]))
            requests.append(ScoreRequest(k, cands, group=(self.dataset.abbr, ice_key(q)),
                                         prompts=tuple(rendered) if self.text_prompts else ()))
        # OpenCompass ranks labels by the average loss of the whole sequence (its PPL, which ppl records
        # carry per label). When a question's candidates have equal token counts they share all but their
        # last token, so that ranking equals the ranking by the last token's loss, which is used then: it
        # is exact where the averages could round to a tie (as in choice mode, which needs nothing else).
        need_total = self.mode == "ppl"
        by_average = need_total and any(len({len(c) for c in r.candidates}) > 1 for r in requests)
        for batch in self.model.score(requests, progress, need_total=need_total, **self._batching()):
            yield [self._score_record(questions[res.key], res, origin[res.key], by_average) for res in batch]

    def _score_record(self, q: QuestionPrompt, res: ScoreResult, origin: tuple[Any, int], by_average: bool) -> Record:
        """One ppl or choice record from the candidates' scores (or the error that left it without)."""
        if res.error is not None or not res.scores:
            rec = base_record(q, origin[0], origin[1])
            rec.update(error=res.error or "no scores")
            return rec
        if self.text_prompts:  # the server tokenised: its counts, and (same count for each) a rank by the tail
            origin = (origin[0], res.scores[0].n_tokens)
            by_average = self.mode == "ppl" and len({s.n_tokens for s in res.scores}) > 1
        values = [s.avg_nll if by_average else s.tail_nll for s in res.scores]
        best = values.index(min(values))  # ties: the first label, as OpenCompass's index(min)
        if self.mode == "ppl":
            rec = ppl_record(q, res.scores, origin[1], chat=self.model.hf_type == "chat")
        else:
            rec = base_record(q, origin[0], origin[1])
        rec.update(prediction=q.labels[best], gold=q.gold, scores=dict(zip(q.labels, (round(v, 6) for v in values))),
                   score="avg_nll" if by_average else "label_nll")
        return rec
