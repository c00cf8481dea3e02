# bench/http/plot.gp - draw the HTTP benchmark (bench/http/run runs it):
#   gnuplot -e "dir='bench/out'; places='unpinned pinned'" bench/http/plot.gp
# Reads DIR/http.dat (written by report.py: one block per placement and
# connection count, in that order) and writes DIR/http.png.

if (!exists("dir")) dir = "bench/out"
if (!exists("places")) places = "unpinned"
np = words(places)

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
	set terminal pngcairo size 1100,(380 * np + 60) font "sans,10"
} else {
	set terminal png size 1100,(380 * np + 60)
}
set output dir."/http.png"

set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 10
set yrange [100:*]
set ylabel "requests per second (log scale)"
set grid ytics
set key top right font ",9"
set xtics nomirror
set multiplot layout np,2 title "forkboard-server vs the baselines: wrk -t2, POST, same run"
do for [i = 1:np] {
	do for [c = 0:1] {
		set title sprintf("%s, %d connections", word(places, i), c == 0 ? 16 : 64)
		plot dir."/http.dat" index (2 * (i - 1) + c) using 2:xtic(1) title "forkboard-server (2 workers)" lc rgb "#1f77b4", \
		     '' index (2 * (i - 1) + c) using 3 title "bare libevent (inline)" lc rgb "#7f7f7f", \
		     '' index (2 * (i - 1) + c) using 4 title "gunicorn (2 sync)" lc rgb "#2ca02c", \
		     '' index (2 * (i - 1) + c) using 5 title "nginx + PHP-FPM (2)" lc rgb "#d62728"
	}
}
unset multiplot
