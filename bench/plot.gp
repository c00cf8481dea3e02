# plot.gp - draw fb-bench's results.  scripts/bench runs it as
#   gnuplot -e "dir='bench/out'" bench/plot.gp
# It reads DIR/throughput.dat and DIR/latency.dat (written by fb-bench)
# and writes DIR/throughput.png and DIR/latency.png.

if (!exists("dir")) dir = "bench/out"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
	set terminal pngcairo size 900,560 font "sans,10"
} else {
	set terminal png size 900,560
}

set output dir."/throughput.png"
set title "Batched no-op throughput vs workers (median; bars: min-max over rounds)"
set xlabel "workers"
set ylabel "tasks per second (log scale)"
set logscale x 2
set xtics (1, 2, 4, 8, 16, 32, 64)
set xrange [0.8:80]
set logscale y 10
set yrange [*:*]
set format y "%.0s%c"
set grid
set key below
plot dir."/throughput.dat" using 1:2:3:4 with yerrorlines lw 2 lc 1 pt 7 \
	title "forkboard: submit\\_batch + next\\_view, one CPU", \
     "" using 1:5:6:7 with yerrorlines lw 2 lc 2 pt 5 \
	title "raw pipe+shm loop, coalesced, one CPU", \
     "" using 1:8:9:10 with yerrorlines lw 2 lc 1 dt 2 pt 6 \
	title "forkboard, unpinned", \
     "" using 1:11:12:13 with yerrorlines lw 2 lc 2 dt 2 pt 4 \
	title "raw loop, unpinned"

set output dir."/latency.png"
set title "Single-task round trip, one at a time: distribution (all rounds pooled)"
unset logscale
set key bottom right inside
set logscale x 10
set xtics auto
set xrange [*:*]
set yrange [0:100]
set format y "%g"
set format x "%g"
set xlabel "round trip, microseconds (log scale)"
set ylabel "percentile"
set key bottom right
plot dir."/latency.dat" using 2:1 with lines lw 2 lc 1 \
	title "forkboard submit + wait, one CPU", \
     "" using 3:1 with lines lw 2 lc 2 title "raw pipe ping-pong, one CPU", \
     "" using 4:1 with lines lw 2 lc 1 dt 2 \
	title "forkboard submit + wait, unpinned", \
     "" using 5:1 with lines lw 2 lc 2 dt 2 title "raw pipe ping-pong, unpinned"
