"""Inspect AI front-end for the LM organisms' assays (needs the `inspect` extra: `pip install 'petridish[inspect]'`).

tasks.py     the assays as Inspect tasks: backdoor, reward_hacking, compliance_gap
grown.py     a grown organism (run folder or checkpoint) loaded as an LM, and its prompt format
provider.py  `--model petridish/<run folder or checkpoint>`: grown organisms served to Inspect, batched
assay.py     `petridish assay ORGANISM --model MODEL`: Inspect eval -> a petridish run folder
"""
