using FlowOrleans.Cli;
using FlowOrleans.Cli.CommandLine;

return await FlowCtl.RunAsync(
    args, Console.Out, Console.Error, Console.IsOutputRedirected ? ConsoleKind.Plain : ConsoleKind.Terminal, handleTermination: true, CancellationToken.None);
