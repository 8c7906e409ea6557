package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.Browser;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import dev.mlserver.gateway.testing.TokenProxy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;

/** The console at / and the docs at /docs, in headless Chromium, against a real gateway. */
class ConsoleBrowserTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    static Path plugins;

    static TestGateway gateway;
    static Browser browser;

    @BeforeAll
    static void start() throws IOException {
        Browser.assumeInstalled();
        OpenApiTest.copyExamples(plugins);
        PluginJars.renamed(plugins.resolve("iris.jar"), plugins, "iris-b", "2.0.0");
        PluginJars.plugin("broken").classifier(FixtureClassifier.class).yaml("fail: open\n").writeTo(plugins, "broken.jar");
        gateway = TestGateway.start(plugins);
        browser = Browser.start();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (gateway != null) {
            gateway.close();
        }
    }

    static WebDriver open(String path) {
        WebDriver driver = browser.driver();
        driver.get(gateway.uri(path).toString());
        return driver;
    }

    /**
     * The text of one cell of a classifier's row, read in one step in the page: the table is
     * rebuilt at every refresh, so an element found earlier may be gone.
     */
    static String cell(WebDriver driver, String classifier, String cls) {
        Object text = ((JavascriptExecutor) driver).executeScript(
                "const row = document.querySelector(\"tr.classifier-row[data-classifier='\" + arguments[0] + \"']\");"
                        + "const cell = row && row.querySelector('td.' + arguments[1]);"
                        + "return cell ? cell.textContent : null;", classifier, cls);
        if (text == null) {
            throw new NoSuchElementException("no cell " + cls + " for " + classifier);
        }
        return (String) text;
    }

    static String pluginCell(WebDriver driver, String jar, String cls) {
        Object text = ((JavascriptExecutor) driver).executeScript(
                "const row = document.querySelector(\"tr.plugin-failed[data-jar='\" + arguments[0] + \"']\");"
                        + "const cell = row && row.querySelector('td.' + arguments[1]);"
                        + "return cell ? cell.textContent : null;", jar, cls);
        if (text == null) {
            throw new NoSuchElementException("no cell " + cls + " for " + jar);
        }
        return (String) text;
    }

    @Test
    void theConsoleListsEveryClassifierWithItsVersionAndCommit() {
        WebDriver driver = open("/");
        JsonNode served = TestGateway.json(gateway.get("/classifiers")).get("classifiers");
        assertThat(served).hasSize(2);
        await().atMost(WAIT).until(() -> driver.findElements(By.cssSelector("tr.classifier-row")).size() == served.size());
        for (JsonNode c : served) {
            String name = c.get("name").asText();
            assertThat(cell(driver, name, "version")).isEqualTo(c.get("version").asText());
            assertThat(cell(driver, name, "git-commit")).isEqualTo(c.get("metadata").get("git_commit").asText());
            assertThat(cell(driver, name, "state")).isEqualTo("ready");
            assertThat(cell(driver, name, "in-flight")).isEqualTo("0 / 2");
        }
        assertThat(cell(driver, "iris-b", "version")).isEqualTo("2.0.0");
    }

    @Test
    void tryItShowsARealPredictionAndItsMetadata() {
        WebDriver driver = open("/");
        await().atMost(WAIT).until(() -> driver.findElement(By.id("try-body")).getAttribute("value").contains("sepal_length"));
        choose(driver, "iris");
        await().atMost(WAIT).until(() -> driver.findElement(By.id("try-body")).getAttribute("value").contains("sepal_length"));
        driver.findElement(By.id("try-send")).click();
        await().atMost(WAIT).until(() -> !driver.findElements(By.cssSelector("#try-predictions .label")).isEmpty());

        String expected = TestGateway.json(gateway.post("/iris/predict",
                TestGateway.json(gateway.get("/iris")).get("example").toString())).get("predictions").get(0).asText();
        assertThat(driver.findElement(By.cssSelector("#try-predictions .label")).getText()).isEqualTo(expected);
        assertThat(driver.findElement(By.id("try-status")).getText()).contains("POST /iris/predict → 200");
        JsonNode metadata = TestGateway.json(gateway.get("/iris")).get("metadata");
        assertThat(metadataRow(driver, "version")).isEqualTo(metadata.get("version").asText());
        assertThat(metadataRow(driver, "git_commit")).isEqualTo(metadata.get("git_commit").asText());
        // the page's own request shows in the table at its next refresh
        await().atMost(WAIT).ignoreExceptions().until(() -> cell(driver, "iris", "p50").endsWith(" ms"));
        browser.screenshot("console");
    }

    @Test
    void tryItSendsWhatIsTypedToTheChosenRoute() {
        WebDriver driver = open("/");
        await().atMost(WAIT).until(() -> driver.findElement(By.id("try-body")).getAttribute("value").contains("sepal_length"));
        choose(driver, "iris-b");
        WebElement body = driver.findElement(By.id("try-body"));
        body.clear();
        body.sendKeys("{\"payload\": [6.7, 3.0, 5.2, 2.3]}");
        driver.findElement(By.cssSelector("input[name='try-route'][value='predict_proba']")).click();
        driver.findElement(By.id("try-send")).click();
        await().atMost(WAIT).until(() -> driver.findElement(By.id("try-status")).getText().contains("→ 200"));
        assertThat(driver.findElement(By.id("try-status")).getText()).contains("POST /iris-b/predict_proba");
        assertThat(driver.findElement(By.cssSelector("#try-predictions .label")).getText()).startsWith("virginica 0.9");
        assertThat(metadataRow(driver, "classifier")).isEqualTo("iris-b");
        assertThat(metadataRow(driver, "version")).isEqualTo("2.0.0");
    }

    @Test
    void anExampleThatArrivesAfterTheUserTypedNeverReplacesIt() {
        WebDriver driver = open("/");
        await().atMost(WAIT).until(() -> driver.findElement(By.id("try-body")).getAttribute("value").contains("sepal_length"));
        // the next classifier's metadata (with its example) is answered, but reaches the page only 1.5 s later
        ((JavascriptExecutor) driver).executeScript("""
                const fetchNow = window.fetch;
                window.lateExampleArrived = false;
                window.fetch = async (path, options) => {
                  const response = await fetchNow(path, options);
                  if (path !== '/iris-b') return response;
                  await new Promise((resolve) => setTimeout(resolve, 1500));
                  setTimeout(() => { window.lateExampleArrived = true; }, 0);
                  return response;
                };
                """);
        choose(driver, "iris-b");
        WebElement body = driver.findElement(By.id("try-body"));
        body.clear();
        body.sendKeys("{\"payload\": [6.7, 3.0, 5.2, 2.3]}");
        await().atMost(WAIT).until(() -> Boolean.TRUE.equals(
                ((JavascriptExecutor) driver).executeScript("return window.lateExampleArrived;")));
        assertThat(body.getAttribute("value")).isEqualTo("{\"payload\": [6.7, 3.0, 5.2, 2.3]}");
    }

    @Test
    void theDocsTryItOutSendsTheTokenTypedIntoTheDocsPage() {
        try (TokenProxy proxy = TokenProxy.start(gateway.port(), "s3cret")) {
            WebDriver driver = browser.driver();
            driver.get("http://127.0.0.1:" + proxy.port() + "/docs#/iris/iris_predict");
            driver.findElement(By.id("token")).sendKeys("s3cret");
            driver.findElement(By.id("token-save")).click();
            By execute = By.cssSelector("#operations-iris-iris_predict .execute");
            await().atMost(WAIT).ignoreExceptions().until(() -> !driver.findElements(execute).isEmpty());
            driver.findElement(execute).click();
            By answer = By.cssSelector("#operations-iris-iris_predict .live-responses-table tr.response .response-col_status");
            await().atMost(WAIT).until(() -> !driver.findElements(answer).isEmpty());
            assertThat(driver.findElement(answer).getText()).startsWith("200");
            assertThat(driver.findElement(By.id("token-state")).getText()).isEqualTo("token set for this tab");
        }
    }

    @Test
    void tryItShowsTheGatewaysErrorForABadBody() {
        WebDriver driver = open("/");
        await().atMost(WAIT).until(() -> driver.findElement(By.id("try-body")).getAttribute("value").contains("sepal_length"));
        WebElement body = driver.findElement(By.id("try-body"));
        body.clear();
        body.sendKeys("{\"payload\": [1, 2]}");
        driver.findElement(By.id("try-send")).click();
        await().atMost(WAIT).until(() -> !driver.findElements(By.cssSelector("#try-predictions .error")).isEmpty());
        assertThat(driver.findElement(By.cssSelector("#try-predictions .error")).getText())
                .startsWith("400 invalid_input: expected 4 feature values");
    }

    @Test
    void aFailedPluginShowsItsReason() {
        WebDriver driver = open("/");
        await().atMost(WAIT).ignoreExceptions().until(() -> pluginCell(driver, "broken.jar", "state").equals("failed"));
        assertThat(pluginCell(driver, "broken.jar", "reason")).contains("fixture refuses to open");
    }

    @Test
    void theConsoleRefreshesItselfWithTheLastMinute() {
        WebDriver driver = open("/");
        String before = await().atMost(WAIT).ignoreExceptions().until(() -> cell(driver, "iris-b", "rate"), r -> true);
        for (int i = 0; i < 12; i++) {
            assertThat(gateway.post("/iris-b/predict", "{\"payload\": [6.7, 3.0, 5.2, 2.3]}").statusCode()).isEqualTo(200);
        }
        // no reload: the page polls /status every 2 s
        // a refresh may land while the twelve are still being counted: wait for one that has them all
        await().atMost(WAIT).ignoreExceptions().until(() -> !cell(driver, "iris-b", "rate").equals(before)
                && Double.parseDouble(cell(driver, "iris-b", "rate")) >= 0.2);
        assertThat(cell(driver, "iris-b", "p50")).endsWith(" ms");
    }

    @Test
    void theConsoleAsksForATokenWhenTheApiWantsOne() {
        try (TokenProxy proxy = TokenProxy.start(gateway.port(), "s3cret")) {
            WebDriver driver = browser.driver();
            driver.get("http://127.0.0.1:" + proxy.port() + "/");
            await().atMost(WAIT).until(() -> driver.findElement(By.id("token-box")).isDisplayed());
            assertThat(driver.findElements(By.cssSelector("tr.classifier-row"))).isEmpty();
            driver.findElement(By.id("token")).sendKeys("s3cret");
            driver.findElement(By.id("token-save")).click();
            await().atMost(WAIT).until(() -> driver.findElements(By.cssSelector("tr.classifier-row")).size() == 2);
            await().atMost(WAIT).until(() -> driver.findElement(By.id("try-body")).getAttribute("value").contains("sepal_length"));
            driver.findElement(By.id("try-send")).click();
            await().atMost(WAIT).until(() -> driver.findElement(By.id("try-status")).getText().contains("→ 200"));
            assertThat(driver.findElement(By.id("token-box")).isDisplayed()).isFalse();
        }
    }

    @Test
    void theDocsRenderEveryClassifierRouteFromTheGatewayAlone() {
        WebDriver driver = open("/docs");
        By paths = By.cssSelector(".opblock-summary-path");
        await().atMost(WAIT).until(() -> driver.findElements(paths).size() >= 8);
        List<String> shown = driver.findElements(paths).stream().map(e -> e.getAttribute("data-path")).toList();
        for (String name : List.of("iris", "iris-b")) {
            assertThat(shown).contains("/" + name + "/predict", "/" + name + "/predict_proba", "/" + name, "/" + name + "/ready");
        }
        assertThat(driver.findElement(By.cssSelector(".info .title")).getText()).startsWith("mlserver");
        @SuppressWarnings("unchecked")
        List<String> loaded = (List<String>) browser.driver()
                .executeScript("return performance.getEntriesByType('resource').map(e => e.name);");
        String origin = "http://127.0.0.1:" + gateway.port() + "/";
        assertThat(loaded).isNotEmpty().allSatisfy(url -> assertThat(url).startsWith(origin));
        browser.screenshot("docs");
    }

    @Test
    void theDocsTryItOutCallsTheClassifier() {
        WebDriver driver = open("/docs#/iris/iris_predict");
        // try-it-out is on from the start (tryItOutEnabled), so Execute shows at once
        By execute = By.cssSelector("#operations-iris-iris_predict .execute");
        await().atMost(WAIT).until(() -> !driver.findElements(execute).isEmpty());
        driver.findElement(execute).click();
        By answer = By.cssSelector("#operations-iris-iris_predict .live-responses-table tr.response .response-col_status");
        await().atMost(WAIT).until(() -> !driver.findElements(answer).isEmpty());
        assertThat(driver.findElement(answer).getText()).startsWith("200");
        assertThat(driver.findElement(By.cssSelector("#operations-iris-iris_predict .live-responses-table .microlight"))
                .getText()).contains("\"predictions\"", "setosa", "\"git_commit\"");
    }

    private static void choose(WebDriver driver, String classifier) {
        driver.findElement(By.cssSelector("#try-classifier option[value='" + classifier + "']")).click();
    }

    private static String metadataRow(WebDriver driver, String key) {
        return driver.findElement(By.cssSelector("#try-metadata tr[data-key='" + key + "'] td:nth-child(2)")).getText();
    }
}
