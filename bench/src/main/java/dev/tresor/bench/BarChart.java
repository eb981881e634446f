package dev.tresor.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A small Java2D renderer of grouped bar charts with min–max whiskers, one panel per figure,
 * written as PNG. Enough for benchmark results; no plotting library needed.
 */
final class BarChart {

    /** One bar: a series name and its spread in one group. */
    record Bar(String series, Reports.Spread value) {}

    /** A group of bars side by side (e.g. "8 connections"). */
    record Group(String name, List<Bar> bars) {}

    /** One panel: a title, the unit of its axis, and its groups. */
    record Panel(String title, String unit, List<Group> groups) {}

    private static final Color[] PALETTE = {
            new Color(0x4C72B0), new Color(0xDD8452), new Color(0x55A868), new Color(0xC44E52), new Color(0x8172B3),
            new Color(0x937860)};

    private BarChart() {}

    static void write(Path png, String title, List<Panel> panels) throws IOException {
        int panelWidth = 460;
        int height = 520;
        int width = panelWidth * panels.size() + 40;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(title, 20, 26);
            List<String> series = panels.getFirst().groups().getFirst().bars().stream().map(Bar::series).toList();
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            int lx = 20;
            for (int i = 0; i < series.size(); i++) {
                g.setColor(PALETTE[i % PALETTE.length]);
                g.fillRect(lx, 38, 12, 12);
                g.setColor(Color.BLACK);
                g.drawString(series.get(i), lx + 16, 49);
                lx += 28 + g.getFontMetrics().stringWidth(series.get(i));
            }
            for (int p = 0; p < panels.size(); p++) {
                drawPanel(g, panels.get(p), 20 + p * panelWidth, 70, panelWidth - 30, height - 110, series);
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", png.toFile());
    }

    private static void drawPanel(Graphics2D g, Panel panel, int x, int y, int w, int h, List<String> series) {
        double top = 0;
        for (Group group : panel.groups()) {
            for (Bar b : group.bars()) {
                if (!Double.isNaN(b.value().max())) {
                    top = Math.max(top, b.value().max());
                }
            }
        }
        top = niceCeiling(top <= 0 ? 1 : top * 1.1);
        int axisLeft = x + 55;
        int axisBottom = y + h - 30;
        int plotHeight = h - 60;
        int plotWidth = w - 60;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(panel.title() + " (" + panel.unit() + ")", x + 10, y + 10);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int t = 0; t <= 5; t++) {
            double v = top * t / 5;
            int ty = axisBottom - (int) (plotHeight * t / 5.0);
            g.setColor(new Color(0xDDDDDD));
            g.drawLine(axisLeft, ty, axisLeft + plotWidth, ty);
            g.setColor(Color.DARK_GRAY);
            String label = v >= 10_000 ? String.format(Locale.ROOT, "%.0fk", v / 1000) : String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.1f", v);
            g.drawString(label, axisLeft - 6 - g.getFontMetrics().stringWidth(label), ty + 4);
        }
        g.setColor(Color.BLACK);
        g.drawLine(axisLeft, axisBottom, axisLeft + plotWidth, axisBottom);
        g.drawLine(axisLeft, axisBottom, axisLeft, axisBottom - plotHeight);
        int groups = panel.groups().size();
        int groupWidth = plotWidth / groups;
        for (int gi = 0; gi < groups; gi++) {
            Group group = panel.groups().get(gi);
            int bars = group.bars().size();
            int barWidth = Math.max(8, (groupWidth - 30) / bars);
            int gx = axisLeft + gi * groupWidth + 15;
            for (int bi = 0; bi < bars; bi++) {
                Bar b = group.bars().get(bi);
                int colour = series.indexOf(b.series());
                int bx = gx + bi * barWidth;
                if (Double.isNaN(b.value().median())) {
                    continue;
                }
                int bh = (int) (plotHeight * b.value().median() / top);
                g.setColor(PALETTE[Math.max(0, colour) % PALETTE.length]);
                g.fillRect(bx + 2, axisBottom - bh, barWidth - 4, bh);
                g.setColor(Color.BLACK);
                g.setStroke(new BasicStroke(1.2f));
                int ymin = axisBottom - (int) (plotHeight * b.value().min() / top);
                int ymax = axisBottom - (int) (plotHeight * b.value().max() / top);
                int cx = bx + barWidth / 2;
                g.drawLine(cx, ymin, cx, ymax);
                g.drawLine(cx - 4, ymin, cx + 4, ymin);
                g.drawLine(cx - 4, ymax, cx + 4, ymax);
            }
            g.setColor(Color.BLACK);
            String name = group.name();
            g.drawString(name, gx + (bars * barWidth - g.getFontMetrics().stringWidth(name)) / 2, axisBottom + 16);
        }
    }

    private static double niceCeiling(double v) {
        double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
        for (double step : new double[] {1, 2, 2.5, 5, 10}) {
            if (step * magnitude >= v) {
                return step * magnitude;
            }
        }
        return 10 * magnitude;
    }
}
