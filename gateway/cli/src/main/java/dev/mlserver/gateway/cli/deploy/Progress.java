package dev.mlserver.gateway.cli.deploy;

import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.event.events.ProgressEvent;
import com.google.cloud.tools.jib.event.progress.Allocation;
import java.io.PrintWriter;

/**
 * Shows Jib's progress: on a terminal one bar redrawn in place, elsewhere a line per quarter.
 * Jib reports progress as units done of nested allocations; each unit is a fraction of the whole.
 */
final class Progress {
    private static final int WIDTH = 30;
    private static final java.util.regex.Pattern ANSI = java.util.regex.Pattern.compile("\u001B\\[[;\\d]*m");

    private final PrintWriter out;
    private final boolean terminal;
    private double done;
    private int shownPercent = -1;
    private boolean barOpen;

    Progress(PrintWriter out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    synchronized void onProgress(ProgressEvent event) {
        Allocation allocation = event.getAllocation();
        done += allocation.getFractionOfRoot() * event.getUnits() / Math.max(1, allocation.getAllocationUnits());
        int percent = (int) Math.min(100, Math.round(done * 100));
        if (terminal) {
            if (percent != shownPercent) {
                int filled = percent * WIDTH / 100;
                String description = allocation.getDescription();
                if (description.length() > 40) {
                    description = description.substring(0, 40);
                }
                out.print("\r[" + "=".repeat(filled) + " ".repeat(WIDTH - filled) + "] " + String.format("%3d%% ", percent)
                        + String.format("%-40s", description));
                out.flush();
                barOpen = true;
            }
        } else if (percent / 25 > shownPercent / 25 || shownPercent < 0) {
            out.println("progress " + percent + "%");
            out.flush();
        }
        shownPercent = percent;
    }

    synchronized void onLog(LogEvent event) {
        if (event.getMessage().isBlank()) {
            return;
        }
        switch (event.getLevel()) {
            case ERROR, WARN, LIFECYCLE -> {
                endBar();
                out.println(event.getLevel().name().toLowerCase() + ": " + ANSI.matcher(event.getMessage()).replaceAll(""));
                out.flush();
            }
            default -> { }
        }
    }

    synchronized void finish() {
        endBar();
    }

    private void endBar() {
        if (barOpen) {
            out.println();
            barOpen = false;
        }
    }
}
