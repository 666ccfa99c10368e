"""Regenerate the bad-input corpus (and the good inputs in ``good/``).

Run from the repository root: ``python tests/bad_inputs/make_corpus.py``. Each file holds
exactly one fault; ``expected.toml`` says which loader reads it, which error it must raise
and what the message must (and must not) contain. Codes and names are from the NBS 2023
list of 广元市 (public); people in the ledger files are invented.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import openpyxl
from shapely.geometry import LineString, Point, Polygon

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good"

V_HEADER = (
    "village_code,village_name,kind,town_code,town_name,county_code,county_name,lon,lat,"
    "location_source,children,children_0_5,children_6_13,children_14_16,children_source"
)
V_ROWS = [
    "510802001001,翠屏社区居民委员会,community,510802001,东坝街道,510802,利州区,105.8431,32.4412,user,12,3,8,1,user",
    "510802002001,将军桥社区居民委员会,community,510802002,嘉陵街道,510802,利州区,105.8302,32.4303,user,5,1,3,1,user",
    "510802101201,小稻村村民委员会,village,510802101,大石镇,510802,利州区,105.9123,32.3511,user,20,6,12,2,user",
]

T_TEXT = """town_code,town_name,county_code,county_name,town_type,lon,lat,seat_source
510802001,东坝街道,510802,利州区,街道,105.8440,32.4420,user
510802002,嘉陵街道,510802,利州区,街道,105.8310,32.4310,user
510802101,大石镇,510802,利州区,镇,105.9130,32.3520,user
"""

F_HEADER = "facility_id,name,facility_type,town_code,county_code,capacity,boarding,lon,lat,source"
F_ROWS = [
    "007,东坝派出所,police,510802001,510802,0,false,105.8450,32.4430,user",
    "0012,大石镇中心小学,boarding_school,510802101,510802,300,true,105.9140,32.3530,user",
    "A-03,小稻村儿童之家,childrens_home,510802101,510802,25,否,105.9125,32.3515,user",
]

L_HEADER = "姓名,身份证号,村代码,出生日期,监护情况,就学情况"
L_ROWS = [
    "张小明,510802201501011234,510802001001,2015-01-01,祖父母监护,小学寄宿",
    "李小红,51080220180301123X,510802001001,2018年3月1日,独居,",
    "王小刚,510802200901011234,510802101201,2009/01/01,无监护能力,辍学",
]


def villages_csv(rows: list[str], header: str = V_HEADER) -> str:
    return header + "\n" + "\n".join(rows) + "\n"


def replace_field(row: str, index: int, value: str) -> str:
    parts = row.split(",")
    parts[index] = value
    return ",".join(parts)


def write(name: str, text: str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(text.encode(encoding))


def main() -> None:
    GOOD.mkdir(exist_ok=True)
    # ---------------------------------------------------------------- good inputs
    (GOOD / "villages_gbk.csv").write_bytes(villages_csv(V_ROWS).encode("gbk"))
    (GOOD / "villages_utf8bom.csv").write_bytes(villages_csv(V_ROWS).encode("utf-8-sig"))
    (GOOD / "townships.csv").write_text(T_TEXT, encoding="utf-8")
    (GOOD / "facilities.csv").write_text(villages_csv(F_ROWS, F_HEADER), encoding="utf-8")
    (GOOD / "ledger.csv").write_bytes(villages_csv(L_ROWS, L_HEADER).encode("gb18030"))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["村代码", "村名称", "乡镇代码", "经度", "纬度", "留守儿童数"])
    ws.append(["510802001001", "翠屏社区居民委员会", "510802001", 105.8431, 32.4412, 12])
    ws.append(["510802101201", "小稻村村民委员会", "510802101", 105.9123, 32.3511, 20])
    wb.save(GOOD / "villages_zh_headers.xlsx")
    gpd.GeoDataFrame(
        {"village_code": ["510802001001", "510802101201"], "village_name": ["翠屏社区居民委员会", "小稻村村民委员会"],
         "children": [12, 20]},
        geometry=[Point(105.8431, 32.4412), Point(105.9123, 32.3511)], crs="EPSG:4326",
    ).to_file(GOOD / "villages.geojson", driver="GeoJSON")

    # ---------------------------------------------------------------- encodings
    (HERE / "v_wrong_encoding_cp1252.csv").write_bytes(
        "village_code,village_name,lon,lat,children\n510802001001,Cuiping,105.8431,32.4412,12\n"
        "510802002001,Café Jiangjunqiao,105.8302,32.4303,5\n".encode("cp1252")
    )
    (HERE / "v_big5.csv").write_bytes(
        "village_code,village_name,lon,lat,children\n510802001001,翠屏社區居民委員會,105.8431,32.4412,12\n"
        "510802002001,將軍橋社區居民委員會,105.8302,32.4303,5\n".encode("big5")
    )
    (HERE / "v_utf16.csv").write_bytes(villages_csv(V_ROWS).encode("utf-16"))
    mixed = villages_csv(V_ROWS[:2]).encode("utf-8") + (V_ROWS[2] + "\n").encode("gbk")
    (HERE / "v_mixed_encoding.csv").write_bytes(mixed)

    # ---------------------------------------------------------------- codes
    write("v_float_code.csv", villages_csv([replace_field(V_ROWS[0], 0, "5.10802001001e+11"), *V_ROWS[1:]]))
    write("v_code_dot_zero.csv", villages_csv([V_ROWS[0], replace_field(V_ROWS[1], 0, "510802002001.0"), V_ROWS[2]]))
    write("v_18digit_code.csv", villages_csv([V_ROWS[0], V_ROWS[1], replace_field(V_ROWS[2], 0, "510802201501011234")]))
    write("v_short_code.csv", villages_csv([V_ROWS[0], replace_field(V_ROWS[1], 0, "51080200200")]))
    write("v_duplicate_code.csv", villages_csv([V_ROWS[0], V_ROWS[1], replace_field(V_ROWS[2], 0, "510802001001")]))
    write("v_unknown_town.csv", villages_csv([V_ROWS[0], replace_field(V_ROWS[1], 3, "510802099")]))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["village_code", "village_name", "lon", "lat", "children"])
    ws.append(["510802001001", "翠屏社区居民委员会", 105.8431, 32.4412, 12])
    ws.append([5.10802201501011e17, "将军桥社区居民委员会", 105.8302, 32.4303, 5])
    wb.save(HERE / "v_excel_float_code.xlsx")

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["facility_id", "name", "facility_type", "lon", "lat"])
    ws.append(["007", "东坝派出所", "police", 105.8450, 32.4430])
    ws.append([5.10802201501011e17, "某小学", "school", 105.8302, 32.4303])
    wb.save(HERE / "f_excel_float_id.xlsx")

    # ---------------------------------------------------------------- coordinates
    write("v_swapped_latlon.csv", villages_csv([V_ROWS[0], replace_field(replace_field(V_ROWS[1], 7, "32.4303"), 8, "105.8302"), V_ROWS[2]]))
    write("v_projected_no_crs.csv", villages_csv([
        replace_field(replace_field(r, 7, x), 8, y)
        for r, x, y in zip(V_ROWS, ["579330.2", "578120.5", "585610.9"], ["3589780.1", "3588570.3", "3578840.6"], strict=True)
    ]))
    write("v_outside_region.csv", villages_csv([V_ROWS[0], V_ROWS[1], replace_field(replace_field(V_ROWS[2], 7, "104.0657"), 8, "30.6595")]))
    write("v_nonnumeric_lat.csv", villages_csv([V_ROWS[0], replace_field(V_ROWS[1], 8, "32.25.30")]))
    write("v_missing_lon.csv", villages_csv([V_ROWS[0], V_ROWS[1], replace_field(V_ROWS[2], 7, "")]))
    gpd.GeoDataFrame(
        {"village_code": ["510802001001", "510802002001"], "village_name": ["翠屏社区居民委员会", "将军桥社区居民委员会"],
         "children": [12, 5]},
        geometry=[Point(105.8431, 32.4412), Point(116.3975, 39.9087)], crs="EPSG:4326",
    ).to_file(HERE / "v_layer_outside.geojson", driver="GeoJSON")

    # ---------------------------------------------------------------- table shape
    write("v_empty.csv", "")
    write("v_header_only.csv", V_HEADER + "\n")
    write("v_missing_children.csv", villages_csv(
        [",".join(r.split(",")[:10]) for r in V_ROWS], ",".join(V_HEADER.split(",")[:10])))
    write("v_misspelt_column.csv", villages_csv(V_ROWS, V_HEADER.replace("village_code", "vilage_code")))
    write("v_bad_excel.xlsx", villages_csv(V_ROWS))
    write("v_old_excel.xls", "not really an xls")

    # ---------------------------------------------------------------- counts
    write("v_negative_children.csv", villages_csv([V_ROWS[0], replace_field(V_ROWS[1], 10, "-3")]))
    write("v_fractional_children.csv", villages_csv([V_ROWS[0], replace_field(V_ROWS[1], 10, "4.5")]))
    write("v_nonnumeric_children.csv", villages_csv([V_ROWS[0], V_ROWS[1], replace_field(V_ROWS[2], 10, "二十")]))
    write("v_bands_not_summing.csv", villages_csv([V_ROWS[0], replace_field(V_ROWS[1], 12, "9")]))
    write("v_blank_line_then_bad.csv", V_HEADER + "\n" + V_ROWS[0] + "\n\n" + V_ROWS[1] + "\n"
          + replace_field(V_ROWS[2], 10, "abc") + "\n")
    write("v_unquoted_comma.csv", villages_csv([V_ROWS[0], V_ROWS[1].replace("将军桥社区居民委员会", "将军桥社区,一组")]))
    write("v_bad_kind.csv", villages_csv([replace_field(V_ROWS[0], 2, "hamlet")]))

    # ---------------------------------------------------------------- facilities / townships
    write("f_unknown_type.csv", villages_csv([F_ROWS[0], replace_field(F_ROWS[1], 2, "polce")], F_HEADER))
    write("f_duplicate_id.csv", villages_csv([F_ROWS[0], F_ROWS[1], replace_field(F_ROWS[2], 0, "007")], F_HEADER))
    write("f_bad_boarding.csv", villages_csv([F_ROWS[0], replace_field(F_ROWS[1], 6, "maybe")], F_HEADER))
    write("f_negative_capacity.csv", villages_csv([replace_field(F_ROWS[0], 5, "-10")], F_HEADER))
    write("f_unknown_town.csv", villages_csv([F_ROWS[0], replace_field(F_ROWS[1], 3, "510802777")], F_HEADER))
    write("t_bad_town_type.csv", T_TEXT.replace("510802101,大石镇,510802,利州区,镇", "510802101,大石镇,510802,利州区,village"))
    write("t_duplicate_code.csv", T_TEXT + "510802001,东坝街道,510802,利州区,街道,105.8440,32.4420,user\n")

    # ---------------------------------------------------------------- GIS layers
    square = Polygon([(105.8, 32.4), (105.9, 32.4), (105.9, 32.5), (105.8, 32.5)])
    bowtie = Polygon([(105.5, 32.0), (105.7, 32.2), (105.7, 32.0), (105.5, 32.2), (105.5, 32.0)])
    gpd.GeoDataFrame({"county_code": ["510802", "510811"], "county_name": ["利州区", "昭化区"]},
                     geometry=[square, bowtie], crs="EPSG:4326").to_file(HERE / "c_invalid_polygon.geojson", driver="GeoJSON")
    # GeoJSON in UTM metres, no "crs" member: readers take it as WGS84 degrees.
    utm_square = Polygon([(570000, 3580000), (590000, 3580000), (590000, 3600000), (570000, 3600000)])
    text = gpd.GeoDataFrame({"county_code": ["510802"], "county_name": ["利州区"]},
                            geometry=[utm_square]).to_json()
    write("c_geojson_metres.geojson", text)
    write("c_empty_layer.geojson", '{"type": "FeatureCollection", "features": []}')
    write("c_broken.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", ')
    write("c_as_csv.csv", "county_code,county_name\n510802,利州区\n")
    gpd.GeoDataFrame({"road_class": ["secondary", "track"]},
                     geometry=[LineString([(570000, 3580000), (575000, 3582000)]),
                               LineString([(575000, 3582000), (578000, 3590000)])]).to_file(
        HERE / "r_no_prj.shp", driver="ESRI Shapefile")
    (HERE / "r_no_prj.prj").unlink(missing_ok=True)
    (HERE / "r_no_prj.cpg").unlink(missing_ok=True)
    gpd.GeoDataFrame({"road_class": ["secondary"]}, geometry=[Point(105.8, 32.4)], crs="EPSG:4326").to_file(
        HERE / "r_points_not_lines.geojson", driver="GeoJSON")
    gpd.GeoDataFrame({"road_class": ["secondary", "track"], "oneway": ["yes", "sometimes"]},
                     geometry=[LineString([(105.8, 32.4), (105.9, 32.5)]), LineString([(105.9, 32.5), (105.95, 32.5)])],
                     crs="EPSG:4326").to_file(HERE / "r_bad_oneway.geojson", driver="GeoJSON")
    gpd.GeoDataFrame({"road_class": ["secondary"]}, geometry=[LineString([(105.8, 32.4), (105.9, 32.5)])],
                     crs="EPSG:4326").to_file(HERE / "r_two_layers.gpkg", layer="main_roads", driver="GPKG")
    gpd.GeoDataFrame({"road_class": ["track"]}, geometry=[LineString([(105.8, 32.4), (105.7, 32.5)])],
                     crs="EPSG:4326").to_file(HERE / "r_two_layers.gpkg", layer="tracks", driver="GPKG")
    # read fine by load_roads; the network build (loader "network") rejects them
    chain = [LineString([(105.80 + 0.01 * i, 32.40), (105.81 + 0.01 * i, 32.40)]) for i in range(4)]
    gpd.GeoDataFrame({"road_class": ["secondary"] * 4, "length_m": [940.0, 940.0, None, 940.0]},
                     geometry=chain, crs="EPSG:4326").to_file(HERE / "r_nan_length.geojson", driver="GeoJSON")
    gpd.GeoDataFrame({"road_class": ["secondary"] * 4, "speed_kph": [40.0, None, 40.0, 40.0]},
                     geometry=chain, crs="EPSG:4326").to_file(HERE / "r_nan_speed.geojson", driver="GeoJSON")

    # ---------------------------------------------------------------- ledger
    write("l_bad_age.csv", "姓名,身份证号,村代码,年龄\n张小明,510802201501011234,510802001001,9\n李小红,51080220180301123X,510802001001,七岁半\n")
    write("l_negative_age.csv", "name,id_number,village_code,age\n张小明,510802201501011234,510802001001,-2\n")
    write("l_bad_birth_date.csv", "姓名,身份证号,村代码,出生日期\n张小明,510802201501011234,510802001001,2015-13-45\n")
    write("l_no_age_column.csv", "姓名,身份证号,村代码,监护情况\n张小明,510802201501011234,510802001001,独居\n")
    write("l_id_as_village_code.csv", "姓名,村代码,年龄\n张小明,510802201501011234,9\n")
    write("l_unknown_village.csv", "姓名,身份证号,村代码,年龄\n张小明,510802201501011234,510802001001,9\n李小红,51080220180301123X,510802009009,6\n")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["广元市利州区农村留守儿童信息台账（2024年）"])
    ws.append(["序号", "姓名", "身份证号", "村代码", "年龄", "监护情况"])
    ws.append([1, "张小明", "510802201501011234", "510802001001", 9, "祖父母监护"])
    ws.append([2, "李小红", "51080220180301123X", "510802001001", -4, "独居"])
    wb.save(HERE / "l_title_row_negative_age.xlsx")
    write("l_empty.csv", "姓名,身份证号,村代码,年龄\n")
    write("l_missing_birth_and_age.csv", "姓名,身份证号,村代码,年龄,出生日期\n张小明,510802201501011234,510802001001,,\n")


if __name__ == "__main__":
    main()
