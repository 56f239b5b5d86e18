from wsa_robot.core.keys import DESIRED_GOAL, PROPRIO, STATE, is_camera_token, split_token, token_key


def test_a_camera_token_splits_back_into_encoder_and_camera():
    assert token_key("ae", "agentview") == "ae@agentview"
    assert split_token(token_key("ae", "robot0_eye_in_hand")) == ("ae", "robot0_eye_in_hand")
    assert is_camera_token("dinov2_s@agentview") and not is_camera_token("dinov2_s")


def test_vector_tokens_are_not_camera_tokens():
    for key in (PROPRIO, STATE, DESIRED_GOAL):
        assert split_token(key) is None and not is_camera_token(key)
