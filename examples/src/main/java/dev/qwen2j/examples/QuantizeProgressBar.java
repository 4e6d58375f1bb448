package dev.qwen2j.examples;

import dev.qwen2j.quant.QuantizationProgress;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A progress bar on stderr for quantizing, in millions of weights; shown on a terminal only. */
final class QuantizeProgressBar implements QuantizationProgress, AutoCloseable {

    private final String task;
    private final boolean shown = System.console() != null;
    private ProgressBar bar;

    QuantizeProgressBar(String task) {
        this.task = task;
    }

    @Override
    public synchronized void update(long done, long total) {
        if (!shown || total == 0) {
            return;
        }
        if (bar == null) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit("M weights", 1_000_000)
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                    .setUpdateIntervalMillis(100).build();
        }
        bar.stepTo(done);
    }

    @Override
    public synchronized void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
