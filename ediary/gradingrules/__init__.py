"""The grading rules of a school's statute (issue 14 item 5): categories and their weights, the
+/- values, the improvement policy, attendance types and the non-classification threshold."""
