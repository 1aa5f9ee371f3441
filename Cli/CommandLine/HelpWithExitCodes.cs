using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace FlowOrleans.Cli.CommandLine;

/// <summary>The standard help, followed by the exit code table (System.CommandLine has no epilog of its own).</summary>
internal sealed class HelpWithExitCodes(HelpAction inner) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        var result = inner.Invoke(parseResult);
        parseResult.InvocationConfiguration.Output.WriteLine(ExitCodes.Describe());
        return result;
    }
}
