"""The evaluation engine: prompts, inference, scoring.

Import the submodules you need (``toolkit.engine.prompt``, ``toolkit.engine.render``…);
this package itself imports nothing, so reading configs or building prompts never
pulls in torch or transformers.
"""
