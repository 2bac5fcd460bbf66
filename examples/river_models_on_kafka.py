"""Race your own River and scikit-learn models on a Kafka topic, as they are.

Produces activity rows into a topic of an embedded broker (or uses your own
Kafka with ``--bootstrap``), then races River's Hoeffding tree, a River
pipeline, a scikit-learn ``SGDClassifier`` learning with ``partial_fit`` and
streamlearn's ``auto``, prequentially, and prints the standings.
"""

from __future__ import annotations

import argparse

from river import linear_model, preprocessing, tree
from sklearn.linear_model import SGDClassifier

from streamlearn import Pipeline, run
from streamlearn.sources.registry import parse_source


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", default=None, help="your Kafka; default: an embedded broker")
    ap.add_argument("--topic", default="activity")
    ap.add_argument("--count", type=int, default=20_000)
    args = ap.parse_args()

    broker = None
    if args.bootstrap is None:
        from streamlearn.kafka.broker import EmbeddedBroker
        from streamlearn.kafka.produce import produce

        broker = EmbeddedBroker().start()
        bootstrap = broker.bootstrap
        produce("activity", bootstrap, args.topic, count=args.count)
    else:
        bootstrap = args.bootstrap

    models = {
        "HoeffdingTreeClassifier": tree.HoeffdingTreeClassifier(grace_period=100),
        "scaled logistic": preprocessing.StandardScaler() | linear_model.LogisticRegression(),
        "sgd": SGDClassifier(loss="log_loss", random_state=0),
        "auto": "auto",
    }
    summary = run(
        Pipeline(
            parse_source(f"kafka:{args.topic}", bootstrap=bootstrap),
            task="classification",
            target="gt",
            models=models,
            batch_size=2000,
        )
    )
    for name, m in summary["models"].items():
        if m.get("member_of") is None:
            print(f"{name:>28}: accuracy {m['accuracy']:.4f} on {m['predicted']:,} records")
    print(f"champion: {summary['champion']}")
    if broker is not None:
        broker.stop()


if __name__ == "__main__":
    main()
