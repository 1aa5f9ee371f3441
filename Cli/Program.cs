using FlowOrleans.Cli;

return await FlowCtl.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
