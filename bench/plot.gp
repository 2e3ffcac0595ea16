# SPDX-License-Identifier: MIT
#
# afork-bench plots, from the .dat files bench/report.awk writes:
#
#   gnuplot -e "dat='static.dat'; n=8; xt='(\"0\" 32, \"256M\" 256)'; \
#               what='blocked'; out='blocked-static.png'; ttl='...'" bench/plot.gp
#
# dat: one block per method (first line its name), columns
#      size_mib blocked_p50 blocked_p90 blocked_p99 spawns_per_s
# what: 'blocked' (median µs against parent size) or 'throughput'.

set terminal pngcairo size 960,600 enhanced font ",11"
set output out
set title ttl noenhanced
set key outside right top noenhanced
set grid xtics ytics mytics
set logscale xy
eval "set xtics " . xt
set xlabel "parent's touched anonymous memory (4 KiB pages, THP off)"
set style data linespoints

if (what eq 'blocked') {
	set ylabel "calling thread blocked, median µs (log)"
	col = 2
} else {
	set ylabel "spawns/s with children in flight (log)"
	col = 5
}
# Distinct colours (the default set has a pale yellow); dashes for the
# methods after the first seven.
colors = "#000000 #1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #17becf #7f7f7f"
plot for [i=0:n-1] dat index i using 1:col title columnheader(1) \
	lw 2 pt (i % 7) + 1 ps 1.3 lc rgb word(colors, (i % 10) + 1) dt 1 + (i >= 7)
