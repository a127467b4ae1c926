"""One-off experiments quoted in benchmarks/HISTORY.md, kept so that their figures
can be rerun.

They patch the model in their own process only; nothing here is used by the
package or by the benchmarks.
"""
