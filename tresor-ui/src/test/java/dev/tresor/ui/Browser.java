package dev.tresor.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium (Debian's chromium + chromium-driver) driven through Selenium. Missing
 * packages fail the tests, naming the install, rather than skipping them; nothing is downloaded.
 */
final class Browser implements AutoCloseable {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SCREENSHOTS = Path.of("target", "ui-screenshots");

    final ChromeDriver driver;
    private final WebDriverWait wait;

    Browser(Path profile) {
        assertThat(CHROMIUM).as("chromium must be installed for the browser tests: apt-get install chromium").isExecutable();
        assertThat(CHROMEDRIVER).as("chromedriver must be installed for the browser tests: apt-get install chromium-driver")
                .isExecutable();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--user-data-dir=" + profile.toAbsolutePath(), "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        this.driver = new ChromeDriver(service, options);
        this.wait = new WebDriverWait(driver, Duration.ofSeconds(20));
    }

    void open(String url) {
        driver.get(url);
        waitForLoad();
    }

    private void waitForLoad() {
        wait.until(d -> "complete".equals(((JavascriptExecutor) d).executeScript("return document.readyState")));
    }

    /**
     * The text of each element matching {@code rows} inside {@code container}, read in one script in one
     * document. Holding an element from one query while making another lets Chromium replace the
     * document in between (its CDP then reports "Node with given id does not belong to the document"
     * rather than a stale element, which CI met once after a cross-site login); one script cannot
     * straddle two documents. Waits until the container is there.
     */
    @SuppressWarnings("unchecked")
    List<String> texts(String container, String rows) {
        return wait.until(d -> (List<String>) ((JavascriptExecutor) d).executeScript(
                "const c = document.querySelector(arguments[0]);"
                        + " return c ? Array.from(c.querySelectorAll(arguments[1]), e => e.innerText.trim()) : null;",
                container, rows));
    }

    WebElement find(String css) {
        return wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(css)));
    }

    /** Clicks something that stays on this page (a script's button, a form the browser itself stops). */
    void click(String css) {
        wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector(css))).click();
    }

    /**
     * Clicks something that loads another page (a link, a form's submit button) and returns once
     * that page has replaced this one. Finding an element right after a plain click could find it
     * on the page being left, which then vanishes under the query ("Node ... does not belong to the
     * document"), or read that page's stale notice.
     */
    void navigate(String css) {
        navigate(() -> click(css));
    }

    /** As {@link #navigate(String)}, for a button that asks for confirmation first (accepted). */
    void navigateConfirming(String css) {
        navigate(() -> {
            click(css);
            driver.switchTo().alert().accept();
        });
    }

    private void navigate(Runnable action) {
        WebElement leaving = driver.findElement(By.tagName("html"));
        action.run();
        wait.until(ExpectedConditions.stalenessOf(leaving));
        waitForLoad();
    }

    String text(String css) {
        return find(css).getText();
    }

    String path() {
        return java.net.URI.create(driver.getCurrentUrl()).getPath();
    }

    /** Saves the page as target/ui-screenshots/NAME.png (the committed copies in docs/ui/ come from here). */
    void screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Files.write(SCREENSHOTS.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        driver.quit();
    }
}
