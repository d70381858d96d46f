"""OpenCompass 0.5's ``PPLInferencerOutputHandler`` and the lines of ``PPLInferencer.inference`` that fill it.

Source: https://github.com/open-compass/opencompass (tag 0.5.2, unchanged through 0.5.4 and main),
``opencompass/openicl/icl_inferencer/icl_base_inferencer.py`` (the class, copied unchanged but for
``write_to_json``) and ``icl_ppl_inferencer.py`` (steps 4, 5.2, 6 and 7, in :func:`opencompass_records`),
copyright 2020 OpenCompass Authors, Apache License 2.0 (full text: ``toolkit/configs/LICENSE.opencompass``).
A parity oracle for tests/engine/test_ppl_predictions.py; never imported by toolkit.
"""
# flake8: noqa
# ruff: noqa


class PPLInferencerOutputHandler:
    results_dict = {}

    def __init__(self) -> None:
        self.results_dict = {}

    def save_ice(self, ice):
        for idx, example in enumerate(ice):
            if str(idx) not in self.results_dict.keys():
                self.results_dict[str(idx)] = {}
            self.results_dict[str(idx)]['in-context examples'] = example

    def save_predictions(self, predictions):
        for idx, prediction in enumerate(predictions):
            if str(idx) not in self.results_dict.keys():
                self.results_dict[str(idx)] = {}
            self.results_dict[str(idx)]['prediction'] = prediction

    def save_prompt_and_ppl(self, label, input, prompt, ppl, idx):
        if str(idx) not in self.results_dict.keys():
            self.results_dict[str(idx)] = {}
        if 'origin_prompt' not in self.results_dict[str(idx)]:
            self.results_dict[str(idx)]['origin_prompt'] = input
        if 'label: ' + str(label) not in self.results_dict[str(idx)].keys():
            self.results_dict[str(idx)]['label: ' + str(label)] = {}
        self.results_dict[str(idx)]['label: ' +
                                    str(label)]['testing input'] = input
        self.results_dict[str(idx)]['label: ' + str(label)]['prompt'] = prompt
        self.results_dict[str(idx)]['label: ' + str(label)]['PPL'] = ppl

    def save_golds(self, golds):
        for idx, gold in enumerate(golds):
            if str(idx) not in self.results_dict.keys():
                self.results_dict[str(idx)] = {}
            self.results_dict[str(idx)]['gold'] = gold


def opencompass_records(labels, retrieved_ice, prompts, ices, ppls, token_nums, golds):
    """What PPLInferencer writes, from what its model would compute.

    ``retrieved_ice[i]``: question i's examples (parsed) before truncation; ``prompts[label][i]``,
    ``ices[label][i]``: the parsed prompt and the examples it holds; ``ppls``/``token_nums`` alike.
    (OpenCompass takes ``ice[idx]`` at the batch's first index; with batch size 1 that is ``i``.)
    """
    output_handler = PPLInferencerOutputHandler()
    output_handler.save_ice(retrieved_ice)
    ppl = []
    for label in labels:
        sub_ppl_list = []
        for index, (res, prompt) in enumerate(zip(ppls[label], prompts[label])):
            sub_ppl_list.append(res)
            ice_str = ices[label][index]
            prompt_wo_ice = prompt.replace(ice_str, '')
            output_handler.save_prompt_and_ppl(label, prompt_wo_ice, prompt, res, index)
            output_handler.results_dict[str(index)][f'label: {str(label)}']['BPB'] = res * token_nums[label][index] / len(prompt_wo_ice.encode())
        ppl.append(sub_ppl_list)
    ppl = list(zip(*ppl))
    sub_predictions = []
    for single_ppl in ppl:
        sub_predictions.append(labels[single_ppl.index(min(single_ppl))])
    output_handler.save_predictions(sub_predictions)
    output_handler.save_golds(golds)
    return output_handler.results_dict
