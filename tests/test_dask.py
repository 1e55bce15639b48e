"""The distributed path: dask-geopandas partitions scored on a LocalCluster equal the local engine."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString

distributed = pytest.importorskip("distributed")
dask_geopandas = pytest.importorskip("dask_geopandas")

from vpgeo.nearest import default_workers  # noqa: E402
from vpgeo.pipeline.score import score_dataset, score_file  # noqa: E402
from vpgeo.scoring import score_candidates  # noqa: E402

X0, Y0 = 560_000.0, 2_360_000.0


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0")
    with cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture()
def roads() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"corridor_id": ["A", "B"], "kind": ["expressway", "ring_road"]},
        geometry=[
            LineString([(X0, Y0), (X0 + 10_000, Y0), (X0 + 15_000, Y0 + 8_000)]),
            LineString([(X0 - 5_000, Y0 + 20_000), (X0 + 20_000, Y0 + 20_000)]),
        ],
        crs="EPSG:5897",
    )


def _candidates(n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(4)
    xy = np.column_stack([rng.uniform(X0 - 8000, X0 + 25000, n), rng.uniform(Y0 - 8000, Y0 + 28000, n)])
    xy[n // 2] = xy[1]  # the same point in another partition: the two must share a rank
    cands = gpd.GeoDataFrame({"cid": np.arange(n)}, geometry=shapely.points(xy), crs="EPSG:5897").to_crs(4326)
    cands.loc[7, "geometry"] = None
    return cands


def _write(frame: gpd.GeoDataFrame, folder: Path, parts: int) -> Path:
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[chunk].to_parquet(folder / f"part.{i}.parquet", index=False)
    return folder


def test_dataset_scored_on_a_cluster_equals_the_local_engine(client: Any, roads: Any, tmp_path: Path) -> None:
    cands = _candidates(4000)
    src = _write(cands, tmp_path / "in", 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = score_dataset(src, tmp_path / "out", scheduler=client, corridors=roads, access_points=False)
    local = score_candidates(cands, roads, access_points=False)
    files = sorted((tmp_path / "out").glob("*.parquet"))
    assert len(files) == 4  # one file per partition
    got = pd.concat([pd.read_parquet(f) for f in files]).sort_values("_row").reset_index(drop=True)
    assert got["_row"].tolist() == list(range(len(cands)))
    assert got["cid"].tolist() == cands["cid"].tolist()
    for col in ("distance_km", "dist_A_km", "dist_B_km", "score"):
        np.testing.assert_array_equal(got[col].to_numpy(float), local[col].to_numpy(float))
    assert got["rank"].astype("Int64").tolist() == local["rank"].tolist()
    assert got["rank"][1] == got["rank"][2000]  # identical points, different partitions: one rank
    assert summary["rows"] == 4000 and summary["ranked"] == 3999 and summary["excluded"] == {"no geometry": 1}
    assert summary["top"][0]["rank"] == 1
    assert not (tmp_path / "out.vpgeo-stage").exists()


def test_score_file_takes_a_dataset_folder_with_engine_dask(client: Any, roads: Any, tmp_path: Path) -> None:
    cands = _candidates(600)
    src = _write(cands, tmp_path / "in", 2)
    summary = score_file(src, tmp_path / "out", engine="dask", scheduler=client, corridors=roads, access_points=False)
    assert summary["rows_in"] == summary["rows_out"] == 600 and summary["corridors"] == ["A", "B"]
    assert len(list((tmp_path / "out").glob("*.parquet"))) == 2
    from vpgeo.errors import InputError

    with pytest.raises(InputError, match="lon_col"):
        score_file(src, tmp_path / "other", engine="dask", scheduler=client, lon_col="x")


def test_k_d_tree_queries_use_one_thread_inside_dask_tasks(client: Any) -> None:
    assert client.submit(default_workers, pure=False).result() == 1
    assert default_workers() >= 1


def test_in_memory_dask_engine_sends_the_corridors_once(client: Any, roads: Any) -> None:
    cands = _candidates(3000)
    local = score_candidates(cands, roads, access_points=False, decay="gaussian", search_km=12.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Sending large graph"
        dist = score_candidates(
            cands,
            roads,
            access_points=False,
            decay="gaussian",
            search_km=12.0,
            engine="dask",
            scheduler=client,
            npartitions=3,
        )
    pd.testing.assert_frame_equal(
        pd.DataFrame(local.drop(columns="geometry")), pd.DataFrame(dist.drop(columns="geometry"))
    )


def test_score_file_dataset_accepts_the_cli_defaults(client: Any, roads: Any, tmp_path: Path) -> None:
    """The CLI passes every option, unused ones as None: a dataset run must accept that."""
    src = _write(_candidates(300), tmp_path / "in", 2)
    none = dict(lon_col=None, lat_col=None, address_col=None, crs=None, rejects=None, npartitions=None)
    summary = score_file(
        src,
        tmp_path / "out",
        engine="dask",
        scheduler=client,
        corridors=roads,
        access_points=False,
        exclude=[],
        progress=True,
        **none,
    )
    assert summary["rows_out"] == 300 and summary["excluded"] == {"no geometry": 1}


def test_cli_scores_a_parquet_folder_into_a_folder_on_a_scheduler(client: Any, roads: Any, tmp_path: Path) -> None:
    """#18: ``vpgeo score DIR --engine dask --scheduler ADDR --out DIR``: folder in, one file per partition out."""
    from vpgeo.cli import main

    cands = _candidates(600)
    src = _write(cands, tmp_path / "in", 3)
    roads.to_file(tmp_path / "roads.gpkg")
    out = tmp_path / "scored"
    argv = ["score", str(src), "--out", str(out), "--engine", "dask", "--scheduler", client.scheduler.address]
    argv += ["--corridors", str(tmp_path / "roads.gpkg"), "--no-access-points", "--no-progress"]
    assert main(argv) == 0
    files = sorted(out.glob("*.parquet"))
    assert len(files) == 3
    got = pd.concat([pd.read_parquet(f) for f in files]).sort_values("_row").reset_index(drop=True)
    local = score_candidates(cands, roads, access_points=False)
    assert got["rank"].astype("Int64").tolist() == local["rank"].tolist()
    assert main(argv) == 2  # a non-empty output folder is refused, never mixed
    assert main([*argv[:3], str(tmp_path / "scored.csv"), *argv[4:]]) == 2  # a folder in needs a folder out
