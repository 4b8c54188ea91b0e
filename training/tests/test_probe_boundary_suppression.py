import torch

from probes.standardized_scores import dilated_smooth, suppress_boundaries


def two_halves(size=20):
    """Class 0 on the left half, class 1 on the right; score 0.2 with a ridge of 0.9 along the change."""
    pred = torch.zeros(size, size, dtype=torch.long)
    pred[:, size // 2:] = 1
    score = torch.full((size, size), 0.2)
    score[:, size // 2 - 1:size // 2 + 1] = 0.9
    return pred, score


def test_a_ridge_on_a_class_boundary_is_replaced_by_the_regions_beside_it():
    pred, score = two_halves()
    assert torch.allclose(suppress_boundaries(score, pred), torch.full_like(score, 0.2))


def test_an_unusual_patch_inside_one_class_is_kept():
    pred, score = two_halves()
    score[2:5, 2:5] = 0.8
    assert torch.equal(suppress_boundaries(score, pred)[2:5, 2:5], torch.full((3, 3), 0.8))


def test_a_small_object_given_its_own_class_keeps_its_score():
    # Its centre is no boundary at the last width, and its edge takes the centre's score; the ring of the
    # class around it, boundary at every width, takes the 0.2 from outside.
    pred = torch.zeros(20, 20, dtype=torch.long)
    pred[8:11, 8:11] = 1
    score = torch.full((20, 20), 0.2)
    score[8:11, 8:11] = 0.9
    score[7, 7:12] = 0.9
    suppressed = suppress_boundaries(score, pred)
    assert torch.allclose(suppressed[8:11, 8:11], torch.full((3, 3), 0.9))
    assert float(suppressed[7, 7:12].max()) < 0.25


def test_dilated_smoothing_keeps_a_constant_map_and_spreads_a_peak():
    flat = torch.full((40, 40), 0.5)
    assert torch.allclose(dilated_smooth(flat), flat)
    peak = torch.zeros(40, 40)
    peak[20, 20] = 1.0
    smooth = dilated_smooth(peak)
    assert float(smooth[20, 26]) > 0 and float(smooth[20, 21]) == 0.0  # taps every 6 pixels
    assert abs(float(smooth.sum()) - 1.0) < 1e-5
