"""附近学校: the list nearest first with the distance shown, from the phone's position."""
import pytest


def test_schools_near_a_position_come_nearest_first_with_their_distance(login_as, world, make_school):
    far = make_school(name="远校", lat=31.95, lon=120.40)
    near = make_school(name="近校", lat=31.9005, lon=120.2805)
    page = login_as("leader").get("/schools/?near=31.9,120.28").get_data(as_text=True)
    order = [page.index(name) for name in ("近校", "远校")]
    assert order == sorted(order)
    assert "近校</strong>" in page and "约 70 米" in page  # 55 m north, 47 m east
    assert "按距离由近到远" in page and "按名称排序" in page
    assert far.id != near.id


@pytest.mark.parametrize("near", ["x", "1,2,3", "91,0", "nan,1", "inf,2", ",", "31.9"])
def test_a_position_that_makes_no_sense_keeps_the_usual_order(login_as, world, near):
    response = login_as("leader").get(f"/schools/?near={near}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "按距离由近到远" not in page and "附近学校" in page
