using System.Globalization;
using FlowOrleans.Benchmarks.Cli;
using FlowOrleans.Benchmarks.Reporting;
using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Scale;
using FlowOrleans.Benchmarks.Systems;

// Runs the selected scenarios against the selected systems side by side in this process, over loopback, and
// prints medians with min, max and ratios. Exit codes: 0 all runs succeeded, 1 some run failed, 2 bad arguments.
// Started with ScaleClientProgram.Argument alone, it is instead the client process of the idle scale scenarios.
if (args is [ScaleClientProgram.Argument])
{
    return await ScaleClientProgram.RunAsync(Console.In, Console.Out);
}

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
var scaleText = !options.Scenarios.Any(ScaleScenarios.All.Contains) ? ""
    : string.Create(CultureInfo.InvariantCulture,
        $"; scale: {settings.ScaleSettle.TotalSeconds:0.###} s settle + {settings.ScaleIdleWindow.TotalSeconds:0.###} s idle window a stage, " +
        $"{settings.ScaleBulkDuration.TotalSeconds:0.###} s cluster bulk")
      + (settings.ScaleCap is { } cap ? string.Create(CultureInfo.InvariantCulture, $", counts capped at {cap}") : "");
var settingsText = string.Create(CultureInfo.InvariantCulture,
    $"{(options.Quick ? "--quick, " : "")}rounds: 1 warm-up + {options.Rounds} measured, " +
    $"{settings.Duration.TotalSeconds:0.###} s per run, {settings.ManyFlows} flows for bulk-64flows, " +
    $"{settings.IdleFlows} idle flows, watchdog {settings.WatchdogTimeout.TotalSeconds:0} s{scaleText}");
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
        var system = await info.StartAsync(CancellationToken.None);
        systems.Add(system);
        if (!options.Scenarios.Any(s => s.AppliesTo(system)))
        {
            // Nothing selected runs on it: left out of the report, and stopped now rather than kept running beside the others.
            systems.Remove(system);
            await system.DisposeAsync();
        }
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

var used = options.Systems.Where(info => systems.Any(s => s.Name == info.Name)).ToList();
var names = used.Select(s => s.Name).ToList();
var baseline = names.Contains(BenchSystems.DefaultBaseline) ? BenchSystems.DefaultBaseline : names.FirstOrDefault();
var failures = outcomes.Where(o => o.Failure is not null).ToList();
var conditions = string.Create(CultureInfo.InvariantCulture,
    $"took {(DateTimeOffset.UtcNow - startedAt).TotalSeconds:0} s; load average (1/5/15 min) {loadAtStart} at start, " +
    $"{MachineInfo.LoadAverage()} at end");
var report = new Report(
    Summary.Build(outcomes, names, baseline), failures, used, baseline, settingsText, conditions,
    pivoted: [.. ScaleScenarios.All.Select(s => s.Name)]);

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
