extension Experiment {
    /// The schema: each table's keys and what they hold (also the message for an unknown key).
    static let schema: [String: [String: String]] = [
        "": [
            "output": "a folder", "cache": "a folder (default: OUTPUT/cache)", "corpus": "a table", "lstm": "a table", "models": "a table",
            "probe": "a table", "analyses": "a table",
            "taskspace": "a table", "claims": "tables ([[claims]])",
        ],
        "models": [
            "checkpoints": "model folders, oldest first", "reference": "a model folder", "finetuned": "a model folder",
            "tokenizer": "a tokenizer.json", "series": "a hub cache folder (refs/, snapshots/) or a folder of stepN/ revisions",
            "steps": "the series' steps to study (default: all)",
        ],
        "corpus": ["paths": "treebank paths", "limit": "an integer ≥ 0"],
        "lstm": [
            "hidden": "an integer", "layers": "an integer", "steps": "an integer", "checkpoints": "steps", "batch_size": "an integer",
            "max_length": "an integer", "learning_rate": "a number", "dropout": "a number", "seed": "an integer", "min_count": "an integer",
            "max_vocabulary": "an integer", "tagger": "a property or \"none\"", "references": "properties",
            "finetune": "a property or \"none\"",
            "finetune_steps": "an integer",
        ],
        "probe": ["properties": "property names", "lambda": "a number", "alpha": "a number", "seeds": "integers", "k": "an integer"],
        "analyses": [
            "ablation": "shares of a layer's neurons in (0, 1]", "minimal_delta": "accuracy points, or 0 for no minimal set",
            "interactions": "a table { max_distance = 10, sentences = 500 } (native LSTMs)",
            "measures": "similarity measure names, e.g. [\"svcca\", \"cka\"]",
            "sparsity": "the ks of k-sparse probing, e.g. [1, 2, 4, 8, 16]",
            "rankers": "the rankers of the sparsity curves, e.g. [\"path\", \"lca\", \"iou\"]",
            "erasure": "true: LEACE at each property's best layer, with the model's loss",
        ],
        "taskspace": [
            "pairs": "minimal pairs: a BLiMP folder or .jsonl file, or a pairs TSV", "tasks": "task names (default: all)",
            "limit": "pairs per task, half train, half test", "steps": "the checkpoints whose spaces are built (default: all)",
            "sizes": "further hidden sizes of the language model", "seeds": "an integer", "mask": "a share in (0, 1]",
            "learning_rate": "a number", "epochs": "an integer",
        ],
    ]
}
