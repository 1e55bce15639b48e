"""vpgeo.scoring: exact distances, decay shapes, monotone scores, weights, exclusions, engines, files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from vpgeo.errors import CRSError, InputError
from vpgeo.pipeline.score import score_file
from vpgeo.scoring import DECAYS, decay_score, plot_sensitivity, score_candidates, sensitivity

X0, Y0 = 550_000.0, 2_350_000.0


@pytest.fixture()
def roads() -> gpd.GeoDataFrame:
    """Two corridors, A in two sections, built in EPSG:5897 and handed over in WGS 84."""
    return gpd.GeoDataFrame(
        {"corridor_id": ["A", "A", "B"], "kind": ["expressway", "expressway", "ring_road"]},
        geometry=[
            LineString([(X0, Y0), (X0 + 10_000, Y0)]),
            LineString([(X0 + 10_000, Y0), (X0 + 15_000, Y0 + 8_000)]),
            LineString([(X0 - 5_000, Y0 + 20_000), (X0 + 20_000, Y0 + 20_000)]),
        ],
        crs="EPSG:5897",
    ).to_crs("EPSG:4326")


def _pts(xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": range(len(xy))}, geometry=[Point(x, y) for x, y in xy], crs="EPSG:5897")


def test_distances_equal_shapely_in_metric_crs(roads: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(3)
    xy = list(zip(rng.uniform(X0 - 8000, X0 + 25000, 300), rng.uniform(Y0 - 8000, Y0 + 28000, 300), strict=True))
    cands = _pts(xy).to_crs("EPSG:32648")  # any CRS in
    out = score_candidates(cands, roads, access_points=False)
    metric = roads.to_crs("EPSG:5897")
    pts = cands.to_crs("EPSG:5897").geometry.to_numpy()
    ref_a = shapely.distance(pts, shapely.union_all(metric.geometry[:2].to_numpy())) / 1000
    ref_b = shapely.distance(pts, metric.geometry[2]) / 1000
    # The candidates went 5897 → 32648 → 5897: a few mm of round trip, well within 1 m.
    np.testing.assert_allclose(out["dist_A_km"], ref_a, atol=1e-3)
    np.testing.assert_allclose(out["dist_B_km"], ref_b, atol=1e-3)
    np.testing.assert_allclose(out["distance_km"], np.minimum(ref_a, ref_b), atol=1e-3)
    assert (out["nearest_corridor"] == np.where(ref_a <= ref_b, "A", "B")).all()
    assert out.crs.to_epsg() == 32648 and list(out["id"]) == list(range(300))


def test_decay_shapes_at_their_defining_points() -> None:
    half, mx = 3.0, 8.0
    lin = decay_score([0, mx / 2, mx, mx + 1e-9], decay="linear", half_distance_km=half, max_km=mx)
    np.testing.assert_allclose(lin, [1, 0.5, 0, 0])
    for d in ("exponential", "gaussian"):
        v = decay_score([0, half, 2 * half, mx, mx + 1e-9], decay=d, half_distance_km=half, max_km=mx)
        assert v[0] == 1 and v[1] == pytest.approx(0.5) and v[-1] == 0
        assert v[2] == pytest.approx(0.25 if d == "exponential" else 0.5**4)
    step = decay_score([0, mx, mx + 1e-9], decay="step", half_distance_km=half, max_km=mx)
    np.testing.assert_array_equal(step, [1, 1, 0])
    assert np.isnan(decay_score([np.nan])[0])
    with pytest.raises(InputError, match="unknown decay"):
        decay_score([1.0], decay="cubic")
    with pytest.raises(InputError, match="max_km"):
        decay_score([1.0], max_km=0)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        decay_score([1.0], decay=lambda d: d * 2)


@settings(max_examples=40, deadline=None)
@given(
    d1=st.integers(0, 30_000_000).map(lambda mm: mm / 1000),  # whole millimetres: no subnormal offsets
    d2=st.integers(0, 30_000_000).map(lambda mm: mm / 1000),
    decay=st.sampled_from(DECAYS),
    half=st.floats(0.5, 10),
    mx=st.floats(1, 20),
)
def test_closer_never_scores_lower(d1: float, d2: float, decay: str, half: float, mx: float) -> None:
    road = gpd.GeoDataFrame({"corridor_id": ["A"]}, geometry=[LineString([(0, 0), (100_000, 0)])], crs="EPSG:5897")
    out = score_candidates(
        _pts([(50_000, d1), (50_000, -d2)]), road, decay=decay, half_distance_km=half, max_km=mx, access_points=False
    )
    s = out["score"].to_numpy()
    assert s.min() >= 0 and s.max() <= 1
    if d1 < d2:
        assert s[0] >= s[1] and out["rank"].tolist() == [1, 2]
    elif d2 < d1:
        assert s[1] >= s[0] and out["rank"].tolist() == [2, 1]


def test_weights_by_id_and_kind(roads: gpd.GeoDataFrame) -> None:
    # P is 2 km from A and 1 km from B.
    cands = _pts([(X0 + 5000, Y0 + 2000), (X0 + 5000, Y0 + 19_000)])
    plain = score_candidates(cands, roads, access_points=False)
    np.testing.assert_allclose(plain["score"], [0.8, 0.9])
    assert plain["rank"].tolist() == [2, 1]
    favour_a = score_candidates(cands, roads, weights={"A": 1.0, "B": 0.5}, access_points=False)
    np.testing.assert_allclose(favour_a["score"], [0.8, 0.45])
    assert favour_a["rank"].tolist() == [1, 2] and favour_a["score_from"].tolist() == ["A", "B"]
    by_kind = score_candidates(cands, roads, weights={"expressway": 4, "ring_road": 2}, access_points=False)
    np.testing.assert_allclose(by_kind["score"], favour_a["score"])  # divided by the largest weight
    with pytest.raises(InputError, match="neither a corridor id"):
        score_candidates(cands, roads, weights={"QL99": 1}, access_points=False)
    with pytest.raises(InputError, match="all weights are 0"):
        score_candidates(cands, roads, weights={"*": 0}, access_points=False)


def test_exclusions_missing_geometry_and_rank_ties(roads: gpd.GeoDataFrame) -> None:
    roads = roads.to_crs("EPSG:5897")
    roads["geometry"] = roads.geometry.set_precision(0.001)  # exact metres: equal distances really tie
    cands = _pts([(X0 + 1000, Y0 + 3000), (X0 + 2000, Y0 - 3000), (X0 + 3000, Y0 + 500), (X0 + 4000, Y0 + 3000)])
    cands.loc[4] = [4, None]
    park = gpd.GeoDataFrame(
        {"name": ["Vườn quốc gia (user layer)"]}, geometry=[box(X0 + 2500, Y0, X0 + 3500, Y0 + 1000)], crs="EPSG:5897"
    )
    out = score_candidates(cands, roads, exclude=park, access_points=False)
    assert len(out) == 5
    assert out["excluded"].tolist() == [False, False, True, False, True]
    assert out["excluded_reason"][2] == "inside Vườn quốc gia (user layer) (exclusion layer 1)"
    assert out["excluded_reason"][4] == "no geometry" and np.isnan(out["distance_km"][4])
    assert out["score"][2] == 0 and pd.isna(out["rank"][2]) and pd.isna(out["rank"][4])
    # Rows 0, 1 and 3 are all 3 km from A: equal scores, equal distances, so they share rank 1 (#17 item 3).
    assert out["rank"][[0, 1, 3]].tolist() == [1, 1, 1]


def test_embedded_corridors_and_access_points_at_known_points() -> None:
    """IC4 Tam Đảo – Vĩnh Yên (OSM node 3008931528, facts corridors.md) lies on CT.05 and is an access point."""
    ic4 = gpd.GeoDataFrame({"name": ["IC4"]}, geometry=[Point(105.6061, 21.3573)], crs="EPSG:4326")
    out = score_candidates(ic4)
    # by hand: the toll-booth node against the Travel Mapping line and its IC4 waypoint (216 m / ~0.3 km, facts)
    from vpgeo.datasets import load_access_points, load_corridors

    node = ic4.to_crs("EPSG:5897").geometry[0]
    ct05 = load_corridors().to_crs("EPSG:5897")
    ct05 = ct05[ct05["corridor_id"] == "CT05"]
    ic4_wp = load_access_points().to_crs("EPSG:5897").set_index("access_id").geometry["CT05:ic4tamdaovinhyenkimlong"]
    by_hand = shapely.distance(node, ct05.geometry.to_numpy()).min()
    assert out["dist_CT05_km"][0] * 1000 == pytest.approx(by_hand, abs=1e-6)
    assert out["dist_CT05_km"][0] < 0.5  # within CT.05's stated precision
    assert out["access_km"][0] * 1000 <= shapely.distance(node, ic4_wp) + 1e-6
    assert out["score"][0] > 0.95
    assert set(out.attrs["scoring"]["corridors"]) == {"CT05", "RR4", "RR5"}
    with pytest.raises(CRSError):
        score_candidates(gpd.GeoDataFrame(geometry=[Point(0, 0)]))


def test_polygon_candidates_use_their_boundary(roads: gpd.GeoDataFrame) -> None:
    parcels = gpd.GeoDataFrame(
        geometry=[box(X0 + 100, Y0 - 50, X0 + 300, Y0 + 50), box(X0, Y0 + 1000, X0 + 10, Y0 + 1200)], crs="EPSG:5897"
    )
    out = score_candidates(parcels, roads, access_points=False)
    np.testing.assert_allclose(out["dist_A_km"], [0.0, 1.0], atol=1e-6)  # WGS 84 round trip: < 1 mm


def test_dask_engine_equals_local(roads: gpd.GeoDataFrame) -> None:
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask_geopandas")
    rng = np.random.default_rng(11)
    xy = list(zip(rng.uniform(X0 - 8000, X0 + 25000, 3000), rng.uniform(Y0 - 8000, Y0 + 28000, 3000), strict=True))
    cands = _pts(xy)
    cands.loc[5, "geometry"] = None
    local = score_candidates(cands, roads, access_points=False, decay="gaussian")
    cluster = distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1, dashboard_address=":0")
    with cluster, distributed.Client(cluster) as client:
        dist = score_candidates(
            cands, roads, access_points=False, decay="gaussian", engine="dask", scheduler=client, npartitions=4
        )
    pd.testing.assert_frame_equal(
        pd.DataFrame(local.drop(columns="geometry")), pd.DataFrame(dist.drop(columns="geometry"))
    )


def test_sensitivity_table_and_plot(roads: gpd.GeoDataFrame, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    xy = list(zip(rng.uniform(X0, X0 + 15000, 60), rng.uniform(Y0, Y0 + 20000, 60), strict=True))
    t = sensitivity(_pts(xy), roads, access_points=False, top_k=10)
    base = t.iloc[0]
    assert (base["parameter"], base["spearman"], base["top_k_overlap"]) == ("baseline", 1.0, 1.0)
    # Favouring B over A must reorder sites lying between them; independent check with scipy.
    from scipy.stats import spearmanr

    row = t[t["value"] == repr({"*": 0.5, "B": 1.0})].iloc[0]
    r0 = score_candidates(_pts(xy), roads, access_points=False)["rank"].to_numpy(dtype=float)
    r1 = score_candidates(_pts(xy), roads, access_points=False, weights={"*": 0.5, "B": 1.0})["rank"].to_numpy(
        dtype=float
    )
    assert row["spearman"] == pytest.approx(spearmanr(r0, r1).statistic, abs=1e-6) and row["spearman"] < 1
    assert row["top_k_overlap"] == len(set(np.flatnonzero(r0 <= 10)) & set(np.flatnonzero(r1 <= 10))) / 10
    pytest.importorskip("matplotlib")
    png = plot_sensitivity(t, tmp_path / "s.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match="param_grid"):
        sensitivity(_pts(xy), roads, param_grid={"buffer": [1]})


def test_score_file_csv_round_trip(roads: gpd.GeoDataFrame, tmp_path: Path) -> None:
    src = tmp_path / "cands.csv"
    ll = _pts([(X0 + 5000, Y0 + 2000), (X0 + 5000, Y0 + 19_000)]).to_crs("EPSG:4326")
    src.write_text(
        "ten,lon,lat\n"
        f"P1,{ll.geometry.x[0]:.8f},{ll.geometry.y[0]:.8f}\n"
        f"P2,{ll.geometry.x[1]:.8f},{ll.geometry.y[1]:.8f}\n"
        "P3,,\n",
        encoding="utf-8",
    )
    corr = tmp_path / "roads.geojson"
    roads.to_file(corr, driver="GeoJSON")
    summary = score_file(src, tmp_path / "out.csv", corridors=corr, access_points=False, progress=False)
    assert (summary["rows_in"], summary["rows_out"], summary["ranked"]) == (3, 3, 2)
    assert summary["excluded"] == {"no geometry": 1}
    out = pd.read_csv(tmp_path / "out.csv", encoding="utf-8-sig")
    assert out["ten"].tolist() == ["P1", "P2", "P3"]
    np.testing.assert_allclose(out["distance_km"][:2], [2.0, 1.0], atol=1e-3)


def test_imprecise_candidates_carry_their_uncertainty(roads: gpd.GeoDataFrame) -> None:
    """#17 item 3: a commune-precision candidate 3 km from A (±2 km) scores 0.7 in [0.5, 0.9] (linear, 10 km)."""
    cands = _pts([(X0 + 5000, Y0 + 3000), (X0 + 5000, Y0 + 500)])
    cands["precision_m"] = [2000.0, 3000.0]
    out = score_candidates(cands, roads, access_points=False)
    np.testing.assert_allclose(out["score"], [0.7, 0.95], atol=1e-6)
    np.testing.assert_allclose(out["score_lo"], [1 - 5 / 10, 1 - 3.5 / 10], atol=1e-6)
    np.testing.assert_allclose(out["score_hi"], [1 - 1 / 10, 1.0], atol=1e-6)  # max(0, 0.5 - 3) = 0 km
    exact = score_candidates(_pts([(X0 + 5000, Y0 + 3000)]), roads, access_points=False)
    assert "score_lo" not in exact.columns  # exact positions: no range to report


def test_search_bound_reports_beyond_never_a_wrong_number(roads: gpd.GeoDataFrame) -> None:
    cands = _pts([(X0 + 5000, Y0 + 3000), (X0 + 5000, Y0 - 15_000), (X0 + 5000, Y0 + 10_500)])
    full = score_candidates(cands, roads, access_points=False)
    cut = score_candidates(cands, roads, access_points=False, search_km=12.0)
    assert cut["distance_km"][0] == pytest.approx(3.0, abs=1e-6) and np.isnan(cut["dist_B_km"][0])  # B: 17 km
    assert full["dist_B_km"][0] == pytest.approx(17.0, abs=1e-5)
    assert np.isnan(cut["distance_km"][1]) and cut["beyond_km"][1] == 12.0  # 15 km from A, 35 km from B
    both = ["dist_A_km", "dist_B_km"]  # within the bound: the exact values, identical to the unbounded run
    np.testing.assert_array_equal(cut.loc[2, both].to_numpy(float), full.loc[2, both].to_numpy(float))
    assert cut.loc[2, "dist_B_km"] == pytest.approx(9.5, abs=1e-5)
    assert np.isnan(cut["beyond_km"][0]) and np.isnan(cut["beyond_km"][2])
    np.testing.assert_allclose(cut["score"], full["score"])
    assert cut["rank"].tolist() == full["rank"].tolist()
    with pytest.raises(InputError, match="search_km"):
        score_candidates(cands, roads, access_points=False, search_km=5.0)  # below max_km: scores would change


def test_sensitivity_says_when_the_ranking_is_robust(roads: gpd.GeoDataFrame) -> None:
    # Two candidates each close to one corridor: favouring the other corridor swaps them.
    cands = _pts([(X0 + 5000, Y0 + 1000), (X0 + 5000, Y0 + 18_500)] + [(X0 + 3000, Y0 + 9000 + i) for i in range(3)])
    t = sensitivity(cands, roads, access_points=False, top_k=1)
    assert set(t["parameter"]) == {"baseline", "weights", "max_km"}  # only what can reorder the ranking
    favour_b = t[(t["parameter"] == "weights") & t["value"].str.contains("'B': 1.0")]
    assert not favour_b["robust"].iloc[0] and favour_b["top_k_overlap"].iloc[0] == 0.0
    assert t.attrs["robust"] is False and "depends on" in t.attrs["summary"]
    calm = sensitivity(cands[:1], roads, access_points=False, param_grid={"max_km": [20.0]})
    assert calm.attrs["robust"] is True and calm.attrs["summary"].startswith("The ranking is robust")
    with pytest.raises(InputError, match="search_km"):  # a bound below a varied max_km would miss corridors
        sensitivity(cands, roads, access_points=False, search_km=10.0, param_grid={"max_km": [20.0]})


def test_written_distances_are_rounded_to_their_precision(roads: gpd.GeoDataFrame, tmp_path: Path) -> None:
    from vpgeo.pipeline.score import rounded

    cands = _pts([(X0 + 5000, Y0 + 1736.912), (X0 + 5000, Y0 + 1736.912)])
    cands["precision_m"] = [2600.0, np.nan]
    out = rounded(score_candidates(cands, roads, access_points=False))
    assert out["distance_km"].tolist() == [1.7, 1.737]  # ±2.6 km: 100 m; unknown: to the metre
    assert out["score"].tolist() == [0.826, 0.826]
