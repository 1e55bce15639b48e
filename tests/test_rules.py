"""The priority rule's verdicts at their boundaries, its monotonicity, and the plan's targets."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from vpgeo.errors import InputError
from vpgeo.rules import PLAN, check_priority_rule, parse_applies_to, verdict

ORDER = {"no": 0, "uncertain": 1, "yes": 2}


def _corridors(precision_m: float = 0.0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "corridor_id": ["CT05"],
            "name": ["CT.05"],
            "kind": ["expressway"],
            "status": ["built"],
            "priority": [True],
            "precision_m": [precision_m],
        },
        geometry=[LineString([(500000, 2350000), (540000, 2350000)])],
        crs="EPSG:5897",
    )


def _sites(rows: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    """Sites at distance d (km) north of the line with precision p (m)."""
    return gpd.GeoDataFrame(
        {
            "site_id": [f"s{i}" for i in range(len(rows))],
            "kind": "KCN",
            "phase": "new_2030",
            "precision_m": [p for _, p in rows],
            "district": "X",
            "commune_2025": "Y",
            "area_ha": 100.0,
        },
        geometry=[Point(520000, 2350000 + d * 1000) for d, _ in rows],
        crs="EPSG:5897",
    )


@pytest.mark.parametrize(
    ("d_km", "site_p", "corr_p", "expected"),
    [
        (4.5, 400, 100, "yes"),  # d + p = 5.0 = B: yes (inclusive)
        (4.5, 401, 100, "uncertain"),  # d + p just above B
        (5.5, 400, 100, "uncertain"),  # d − p = 5.0 = B: not beyond, uncertain
        (5.5, 399, 100, "no"),  # d − p just above B
        (0.0, 5000, 0, "yes"),
        (20.0, 2000, 3000, "no"),
    ],
)
def test_verdicts_at_the_boundaries(d_km: float, site_p: float, corr_p: float, expected: str) -> None:
    r = check_priority_rule(
        _sites([(d_km, site_p)]), _corridors(corr_p), buffer_km=5.0, corridor_set=["CT05"], access_points=None
    )
    row = r.table.iloc[0]
    assert row["within_buffer"] == expected
    # the interval [d - p, d + p] (floored at 0), p = site + corridor precision; printed as its centre ± half
    lo, hi = max(0.0, d_km * 1000 - site_p - corr_p), d_km * 1000 + site_p + corr_p
    assert row["dmin_CT05_km"] * 1000 == pytest.approx(lo) and row["dmax_CT05_km"] * 1000 == pytest.approx(hi)
    assert row["uncertainty_m"] == pytest.approx((hi - lo) / 2)
    assert row["distance_km"] * 1000 == pytest.approx((hi + lo) / 2)
    assert row["precision_m"] == site_p
    assert row["point_distance_km"] == pytest.approx(d_km)
    assert row["verdict_CT05"] == expected


def test_site_without_position_is_uncertain() -> None:
    s = _sites([(1.0, 100)])
    s.loc[0, "geometry"] = None
    r = check_priority_rule(s, _corridors(), buffer_km=5, corridor_set=["CT05"], access_points=None)
    assert r.table.loc[0, "within_buffer"] == "uncertain"
    assert r.counts["applicable"] == {"yes": 0, "no": 0, "uncertain": 1}
    assert r.counts["applicable_without_position"] == 1


def test_any_corridor_surely_within_makes_yes() -> None:
    two = gpd.GeoDataFrame(
        {"corridor_id": ["A", "B"], "precision_m": [3000.0, 0.0], "priority": [True, True]},
        geometry=[
            LineString([(500000, 2350000), (540000, 2350000)]),
            LineString([(500000, 2354500), (540000, 2354500)]),
        ],
        crs="EPSG:5897",
    )
    # 1 km from the imprecise A (1 + 3 + 0.1 > 2: uncertain alone), 3.5 km from the exact B (yes at B=4)
    s = _sites([(1.0, 100)])
    r = check_priority_rule(s, two, buffer_km=4.0, corridor_set=["A", "B"], access_points=None)
    # "nearest" is the corridor surely nearest: the lowest upper bound (B: 3.6 km; A: 1 + 3 + 0.1 = 4.1 km)
    assert r.table.loc[0, "nearest_corridor"] == "B"
    assert r.table.loc[0, "within_buffer"] == "yes"
    assert (r.table.loc[0, "verdict_A"], r.table.loc[0, "verdict_B"]) == ("uncertain", "yes")
    assert r.counts["per_corridor"]["A"]["all_sites"] == {"yes": 0, "no": 0, "uncertain": 1}


@given(
    d=st.floats(0, 30),
    p=st.floats(0, 5),
    b1=st.floats(0, 30),
    b2=st.floats(0, 30),
)
def test_verdict_is_monotone_in_the_buffer(d: float, p: float, b1: float, b2: float) -> None:
    lo, hi = sorted((b1, b2))
    assert ORDER[verdict(d, p, lo)] <= ORDER[verdict(d, p, hi)]


def test_rule_monotone_on_the_embedded_data() -> None:
    previous = None
    for b in (0.5, 1, 2, 5, 10, 20, 50):
        r = check_priority_rule(buffer_km=b)
        levels = r.table["within_buffer"].map(ORDER)
        if previous is not None:
            assert (levels >= previous).all()
        previous = levels
    assert (previous == ORDER["yes"]).sum() >= (previous.notna()).sum() - r.table.geometry.isna().sum()


def test_scope_and_counts_match_the_table() -> None:
    r = check_priority_rule(buffer_km=5)
    t = r.table
    applicable = t[t["rule_applies"]]
    assert set(applicable["kind"]) <= {"KCN"}
    assert "existing" not in set(applicable["phase"])
    for v in ("yes", "no", "uncertain"):
        assert r.counts["applicable"][v] == int((applicable["within_buffer"] == v).sum())
        assert r.counts["all_sites"][v] == int((t["within_buffer"] == v).sum())
    doc = json.loads(r.to_json())
    assert doc["counts"] == r.counts
    assert doc["rule"]["buffer_km"] == 5.0 and doc["rule"]["corridors"] == ["CT05", "RR4", "RR5"]


def test_targets_are_the_plan_figures(shared_dir: Path) -> None:
    text = (shared_dir / "facts" / "plan.md").read_text(encoding="utf-8")
    # the figures typed in vpgeo.rules.PLAN, checked against the facts file
    assert "24 planned in total by 2030" in text and PLAN["kcn_2030"]["value"] == 24
    assert "47 in total by 2030" in text and PLAN["ccn_2030"]["value"] == 47
    assert "51 by 2050" in text and PLAN["ccn_2050"]["value"] == 51
    assert "7,000 ha after 2030" in text and PLAN["industrial_land_after_2030_ha"]["value"] == 7000
    assert "10,000 ha in the 2050 vision" in text and PLAN["industrial_land_2050_ha"]["value"] == 10000
    assert "~1,247 ha" in text and PLAN["ccn_new_area_ha"]["value"] == 1247
    assert "31 new" in text and PLAN["ccn_new_2030"]["value"] == 31


def test_targets_in_data_are_counted_from_the_sites() -> None:
    r = check_priority_rule()
    t = r.table
    kcn = t[t["kind"] == "KCN"]
    # sites_facts.csv has 24 KCN rows, two parks in two zones each (Tam Dương II khu A/B, Thái Hòa – Liễn Sơn –
    # Liên Hòa phân khu 1/2): 22 distinct parks
    assert len(kcn) == 24
    # 16 parks with an existing zone (Tam Dương II and Thái Hòa have one existing and one older-plan zone), 4
    # only from older plans, 2 of unknown status: 22 distinct parks
    assert r.targets["kcn_2030"]["in_data_by_evidence"] == {"confirmed": 16, "older_plan": 4, "unknown": 2}
    assert r.targets["kcn_2030"]["in_data"] == 16
    assert r.targets["kcn_2030"]["gap"] == 24 - 16
    new = t[(t["kind"] == "CCN") & (t["phase"] == "new_2030")]
    assert r.targets["ccn_new_area_ha"]["in_data"] == round(new["area_ha"].sum(), -1)
    # the 14 named new CCN of the plan sum to 770.6 ha (plan.md), printed to 10 ha
    assert r.targets["ccn_new_area_ha"]["in_data"] == 770
    existing = kcn[kcn["phase"] == "existing"]["area_ha"].sum()
    older = kcn[kcn["phase"] == "older_plan"]["area_ha"].sum()
    land = r.targets["industrial_land_after_2030_ha"]
    assert land["in_data"] == round(existing, -1)
    assert land["in_data_by_evidence"] == {
        "confirmed": round(existing, -1),
        "older_plan": round(older, -1),
        "unknown": 0,
    }
    assert "demand" in land["what_it_counts"] and "2050" in r.targets["industrial_land_2050_ha"]["what_it_counts"]
    assert all(isinstance(t["in_data"], int) for t in r.targets.values())
    assert "16 KCN are confirmed here against the plan's 24" in r.coverage["statement_en"]
    assert r.embedded_sites and r.to_dict()["embedded_sites"] is True


def test_summaries_add_up() -> None:
    r = check_priority_rule()
    t = r.table
    d = r.by_district
    assert d["n_kcn"].sum() == (t["kind"] == "KCN").sum()
    assert d["n_ccn"].sum() == (t["kind"] == "CCN").sum()
    assert d["industrial_ha"].sum() == pytest.approx(t["area_ha"].fillna(0).sum(), abs=0.01 * len(d))
    c = r.by_commune_2025
    assert c[["rule_yes", "rule_no", "rule_uncertain"]].to_numpy().sum() == int(t["rule_applies"].sum())


def test_bad_scope_and_buffer() -> None:
    with pytest.raises(InputError, match="unknown kind"):
        parse_applies_to("KCX")
    with pytest.raises(InputError, match="unknown phase"):
        parse_applies_to("KCN:soon")
    with pytest.raises(InputError, match="buffer_km"):
        check_priority_rule(buffer_km=-1)
    assert parse_applies_to("all")["CCN"] >= {"existing"}


# ------------------------------------------------------------------------------------------------ regions (#14)
def test_empty_table_gives_empty_result() -> None:
    empty = gpd.GeoDataFrame({"site_id": [], "kind": [], "phase": []}, geometry=[], crs="EPSG:4326")
    r = check_priority_rule(empty, _corridors(), buffer_km=5, corridor_set=["CT05"], access_points=None)
    assert len(r.table) == 0 and "within_buffer" in r.table.columns
    assert r.counts["all_sites"] == {"yes": 0, "no": 0, "uncertain": 0}
    bare = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    assert len(check_priority_rule(bare, _corridors(), corridor_set=["CT05"], access_points=None).table) == 0


def test_far_corridor_layer_warns_naming_it() -> None:
    far = _corridors().assign(corridor_id="FAR")
    far = far.set_geometry(far.translate(0, -400_000))  # 400 km south
    with pytest.warns(UserWarning, match="FAR"):
        check_priority_rule(_sites([(1.0, 100)]), far, corridor_set=["FAR"], access_points=None)


def test_absurd_areas_are_never_summed() -> None:
    s = _sites([(1.0, 100), (2.0, 100), (3.0, 100)])
    s["area_ha"] = [1e300, -5.0, 100.0]
    r = check_priority_rule(s, _corridors(), corridor_set=["CT05"], access_points=None)
    assert r.by_district["kcn_ha"].sum() == pytest.approx(100.0)
    assert r.coverage["sites_without_area"] == 2


def test_user_sites_are_not_compared_with_the_plan() -> None:
    r = check_priority_rule(_sites([(1.0, 100)]), _corridors(), corridor_set=["CT05"], access_points=None)
    assert r.embedded_sites is False and r.targets == {}
    assert "reconstructed from news" not in r.coverage["statement_en"]
    assert "24" in r.coverage["statement_en"] and "not compared" in r.coverage["statement_en"]


def test_embedded_data_emit_no_crs_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_priority_rule(buffer_km=5)


def _user_points() -> gpd.GeoDataFrame:
    from vpgeo.datasets import load_sites

    s = load_sites(regions=False)
    s = s[s["location_method"] == "commune_centroid"].drop(columns=["commune_code", "commune_2025_code"])
    s = s.assign(location_method="user_point").reset_index(drop=True)
    s.attrs = {}  # a user's table, not vpgeo's
    return s


@pytest.mark.parametrize("epsg", [3405, 5897])
def test_verdicts_do_not_depend_on_input_crs(epsg: int) -> None:
    from vpgeo.errors import CRSWarning

    base = _user_points()
    with pytest.warns(CRSWarning):
        ref = check_priority_rule(base, buffer_km=5, access_points=None).table
    other = check_priority_rule(base.to_crs(epsg), buffer_km=5, access_points=None).table
    cols = [c for c in ref.columns if c.startswith("verdict_")] + ["within_buffer", "nearest_corridor"]
    assert (ref[cols].to_numpy() == other[cols].to_numpy()).all()
    for c in [c for c in ref.columns if c.startswith(("dmin_", "dmax_"))]:
        assert (ref[c] - other[c]).abs().max() < 0.03  # km: the bisection's 25 m


@settings(deadline=None, max_examples=25)
@given(d=st.floats(0, 15), p=st.floats(0, 4000), b1=st.floats(0, 20), b2=st.floats(0, 20))
def test_region_verdicts_monotone_in_the_buffer(d: float, p: float, b1: float, b2: float) -> None:
    lo, hi = sorted((b1, b2))
    s = _sites([(d, p)])
    s.loc[0, "geometry"] = s.loc[0, "geometry"].buffer(1500)  # a user polygon: region = polygon widened by p
    a = check_priority_rule(s, _corridors(300), buffer_km=lo, corridor_set=["CT05"], access_points=None).table
    b = check_priority_rule(s, _corridors(300), buffer_km=hi, corridor_set=["CT05"], access_points=None).table
    assert ORDER[a.loc[0, "within_buffer"]] <= ORDER[b.loc[0, "within_buffer"]]
    # every printed figure agrees with the verdict: distance_km ± uncertainty_m is [dmin, dmax]
    for t, buf in ((a, lo), (b, hi)):
        row = t.loc[0]
        low = row["distance_km"] - row["uncertainty_m"] / 1000
        high = row["distance_km"] + row["uncertainty_m"] / 1000
        assert low == pytest.approx(row["dmin_CT05_km"], abs=1e-9)
        assert high == pytest.approx(row["dmax_CT05_km"], abs=1e-9)
        assert (row["within_buffer"] == "yes") == (row["dmax_CT05_km"] <= buf)
        assert (row["within_buffer"] == "no") == (row["dmin_CT05_km"] > buf)


def test_user_commune_rows_are_judged_on_their_commune() -> None:
    from vpgeo.sites import prepare_sites

    df = pd.DataFrame({"name": ["KCN A"], "kind": ["KCN"], "commune": ["Hội Thịng"]})  # a typo of Hội Thịnh
    sites, _ = prepare_sites(df, place_by_commune=True)
    from vpgeo.errors import CRSWarning

    with pytest.warns(CRSWarning):  # a user's lon/lat, reprojected for measuring
        region = check_priority_rule(sites, buffer_km=5).table.loc[0]
    with pytest.warns(CRSWarning):
        disc = check_priority_rule(sites, buffer_km=5, boundaries=None).table.loc[0]
    assert region["region_method"] == "communes_approximate" and "region_method" not in disc.index
    # the commune's polygon, not the disc about its gazetteer point, bounds the distances
    assert region["dmax_CT05_km"] != pytest.approx(disc["dmax_CT05_km"], abs=0.05)
    assert region["precision_m"] != disc["precision_m"]
    assert region["rule_applies"] and region["within_buffer"] in ("yes", "no", "uncertain")


@pytest.mark.parametrize("buffer_km", [2.0, 5.0, 10.0])
def test_printed_figures_agree_with_verdicts_on_the_embedded_data(buffer_km: float) -> None:
    t = check_priority_rule(buffer_km=buffer_km).table
    hi = t["distance_km"] + t["uncertainty_m"] / 1000
    lo = t["distance_km"] - t["uncertainty_m"] / 1000
    yes, no = t["within_buffer"] == "yes", t["within_buffer"] == "no"
    assert (hi[yes] <= buffer_km + 1e-9).all() and (lo[no] > buffer_km - 1e-9).all()
    assert ((hi <= buffer_km + 1e-9) == yes).all()  # and nothing undecided that the figures decide
    for cid in ("CT05", "RR4", "RR5"):
        v = t[f"verdict_{cid}"]
        assert ((t[f"dmax_{cid}_km"] <= buffer_km) == (v == "yes")).all()
        assert ((t[f"dmin_{cid}_km"] > buffer_km) == (v == "no")).all()
        assert (t[f"dmin_{cid}_km"] <= t[f"dmax_{cid}_km"]).all()
        # the set is yes when any corridor is, no when all are
    assert (yes == (t[[f"verdict_{c}" for c in ("CT05", "RR4", "RR5")]] == "yes").any(axis=1)).all()
    assert (no == (t[[f"verdict_{c}" for c in ("CT05", "RR4", "RR5")]] == "no").all(axis=1)).all()


def test_corridors_sharing_a_segment_tie_by_id() -> None:
    line = LineString([(500000, 2350000), (540000, 2350000)])
    two = gpd.GeoDataFrame(
        {"corridor_id": ["ZZ", "AA"], "precision_m": [200.0, 200.0], "priority": [True, True]},
        geometry=[line, line],
        crs="EPSG:5897",
    )
    r = check_priority_rule(_sites([(1.0, 100)]), two, buffer_km=5, corridor_set=["ZZ", "AA"], access_points=None)
    assert r.table.loc[0, "nearest_corridor"] == "AA"
    assert r.table.loc[0, "verdict_AA"] == r.table.loc[0, "verdict_ZZ"] == "yes"
