using System.Globalization;
using FlowOrleans.Benchmarks.Cli;
using FlowOrleans.Benchmarks.Reporting;
using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

// Runs the selected scenarios against the selected systems side by side in this process, over loopback, and
// prints medians with min, max and ratios. Exit codes: 0 all runs succeeded, 1 some run failed, 2 bad arguments.
BenchOptions? options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    await Console.Error.WriteLineAsync(BenchOptions.Usage);
    return 2;
}

if (options is null)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

var settings = options.Settings;
var settingsText = string.Create(CultureInfo.InvariantCulture,
    $"{(options.Quick ? "--quick, " : "")}rounds: 1 warm-up + {options.Rounds} measured, " +
    $"{settings.Duration.TotalSeconds:0.###} s per run, {settings.ManyFlows} flows for bulk-64flows, " +
    $"{settings.IdleFlows} idle flows, watchdog {settings.WatchdogTimeout.TotalSeconds:0} s");
Console.WriteLine($"Machine: {MachineInfo.Describe()}");
Console.WriteLine($"Settings: {settingsText}");
var loadAtStart = MachineInfo.LoadAverage();
var startedAt = DateTimeOffset.UtcNow;

var systems = new List<IBenchSystem>();
IReadOnlyList<RunOutcome> outcomes;
try
{
    foreach (var info in options.Systems)
    {
        systems.Add(await info.StartAsync(CancellationToken.None));
    }

    outcomes = await new BenchRunner(settings, options.Rounds, Console.Out).RunAsync(options.Scenarios, systems);
}
finally
{
    foreach (var system in systems)
    {
        await system.DisposeAsync();
    }
}

var names = options.Systems.Select(s => s.Name).ToList();
var baseline = names.Contains(BenchSystems.DefaultBaseline) ? BenchSystems.DefaultBaseline : names[0];
var failures = outcomes.Where(o => o.Failure is not null).ToList();
var conditions = string.Create(CultureInfo.InvariantCulture,
    $"took {(DateTimeOffset.UtcNow - startedAt).TotalSeconds:0} s; load average (1/5/15 min) {loadAtStart} at start, " +
    $"{MachineInfo.LoadAverage()} at end");
var report = new Report(
    Summary.Build(outcomes, names, baseline), failures, options.Systems, baseline, settingsText, conditions);

Console.WriteLine();
Console.Write(report.ToText());
if (options.JsonPath is { } jsonPath)
{
    await File.WriteAllTextAsync(jsonPath, report.ToJson());
}

if (options.MarkdownPath is { } markdownPath)
{
    await File.WriteAllTextAsync(markdownPath, report.ToMarkdown());
}

return failures.Count > 0 ? 1 : 0;
