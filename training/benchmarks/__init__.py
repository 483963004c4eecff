"""`make bench` pieces: the paths compared (paths.py), how they are timed (measure.py), their quality on labelled
data (quality.py), time to first result in a fresh process (first_result.py) and the report (report.py)."""
