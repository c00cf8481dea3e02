# plot.gp - draw fb-bench's results.  Run from scripts/bench as
#   gnuplot -e "dir='bench/out'" bench/plot.gp
# It reads DIR/throughput.dat and DIR/latency.dat and writes
# DIR/throughput.png and DIR/latency.png.

if (!exists("dir")) dir = "bench/out"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
	set terminal pngcairo size 900,560 font "sans,10"
} else {
	set terminal png size 900,560
}

set output dir."/throughput.png"
set title "No-op throughput vs workers (batched; median and min-max over rounds)"
set xlabel "workers"
set ylabel "tasks per second"
set logscale x 2
set xtics (1, 2, 4, 8, 16, 32, 64)
set xrange [0.8:80]
set yrange [0:*]
set format y "%.1s%c"
set grid
set key top right
plot dir."/throughput.dat" using 1:2:3:4 with yerrorlines lw 2 pt 7 \
	title "forkboard: submit\\_batch + next\\_view", \
     "" using 1:5:6:7 with yerrorlines lw 2 pt 5 \
	title "raw pipe+shm loop, coalesced"

set output dir."/latency.png"
set title "Single-task round trip: distribution (all rounds pooled)"
unset logscale
set logscale x 10
set xtics auto
set xrange [*:*]
set yrange [0:100]
set format y "%g"
set format x "%g"
set xlabel "round trip, microseconds (log scale)"
set ylabel "percentile"
set key bottom right
plot dir."/latency.dat" using 2:1 with lines lw 2 \
	title "forkboard: submit + wait (1 worker)", \
     "" using 3:1 with lines lw 2 title "raw pipe ping-pong"
