from dpsynth.errors import InputDataError, Problem, parameter_error


def test_parameter_error_message_format():
    err = parameter_error("epsilon", -1, "positive")
    assert str(err) == "epsilon (-1) must be positive"


def test_input_error_lists_every_problem():
    err = InputDataError(
        [Problem("age", "value 'x' is not a number", "clean it"), Problem("sex", "every value is missing", "drop it")]
    )
    text = str(err)
    assert text.startswith("2 problems in the input:")
    assert "column 'age': value 'x' is not a number; fix: clean it" in text
    assert "column 'sex'" in text
    assert len(err.problems) == 2
