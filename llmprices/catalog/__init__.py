"""Model identity and size: one canonical id per model, and a catalog of parameter counts.

`matcher` resolves any source's model id to a canonical `model` and a `model_variant`; `models.csv`
(curated facts with their sources) and `aliases.yaml` (extra spellings) are the data it reads;
`hf_params` derives counts from the Hugging Face Hub; `catalog` builds the catalog table and reports
where the Hub disagrees with the curated table; `coverage` measures how much observed data it names.
"""
