"""Prompts, exactly as OpenCompass builds them: templates → in-context examples → the question's prompt(s),
truncated to ``max_seq_len``, then rendered for a base model (text) or a chat model (messages)."""

from __future__ import annotations

from toolkit.engine.prompting.builder import PromptBuilder, QuestionPrompt, build_question_prompts, ice_key
from toolkit.engine.prompting.model_input import to_base_text, to_chat_messages, to_length_messages
from toolkit.engine.prompting.prompt_list import Prompt, PromptList
from toolkit.engine.prompting.retriever import option_labels
from toolkit.engine.prompting.template import check_template

__all__ = ["Prompt", "PromptBuilder", "PromptList", "QuestionPrompt", "build_question_prompts", "check_template", "ice_key", "option_labels", "to_base_text", "to_chat_messages", "to_length_messages"]
