"""The public API of behaviorlab.data is what we mean it to be."""

from __future__ import annotations

import behaviorlab.data as data


def test_exported_members() -> None:
    assert set(data.__all__) >= {
        "Action",
        "Dataset",
        "Episode",
        "Observation",
        "OperaData",
        "OperaFormatError",
        "OperaReport",
        "Option",
        "Person",
        "PersonaField",
        "QuestionSpec",
        "Rationale",
        "SCHEMA_VERSION",
        "Step",
        "SurveyMapping",
        "SurveyMappingError",
        "dataset",
        "datasets",
        "export_opera",
        "load_dataset",
        "load_opera",
        "load_survey_file",
        "make_synthetic_opera",
        "normalise_code",
        "stable_hash",
        "survey_from_frame",
    }
    assert len(set(data.__all__)) == len(data.__all__)  # no name listed twice
    for name in data.__all__:
        assert hasattr(data, name), name
