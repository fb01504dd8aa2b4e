"""The intelligence eval suite: named scenarios (fixed levels and success measures), scored with confidence intervals
into an HTML report."""
