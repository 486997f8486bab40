"""Which data a report says it was built from: built-in synthetic, a generated folder, or real files."""

from assets.common.resources import MeterSource
from assets.reports.assets import describe_source
from assets.synthetic.generate import GROUND_TRUTH_HOUSEHOLDS


def test_built_in_data_is_synthetic():
    assert describe_source(MeterSource(source_dir="")) == ("the built-in data set", True)


def test_a_folder_written_by_the_generator_is_synthetic(tmp_path):
    truth = tmp_path / GROUND_TRUTH_HOUSEHOLDS
    truth.parent.mkdir(parents=True)
    truth.write_text("household_id\n")
    name, synthetic = describe_source(MeterSource(source_dir=str(tmp_path)))
    assert synthetic and str(tmp_path) in name


def test_a_folder_of_real_files_is_not_synthetic(tmp_path):
    (tmp_path / "readings").mkdir()
    assert describe_source(MeterSource(source_dir=str(tmp_path))) == (str(tmp_path), False)
