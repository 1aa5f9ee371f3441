using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Cli.Identity;

/// <summary>
/// A principal directory as the identity verbs use it: exactly what <see cref="Principal.Save"/> writes and
/// <see cref="Principal.LoadOrCreate"/> reads (the private key and the signed roots and blessings), so a directory
/// made here is what a silo's <c>FlowOrleans:Trust:PrincipalDirectory</c> (or a Kubernetes Secret of it) loads.
/// </summary>
internal static class PrincipalDirectory
{
    /// <summary>Loads the principal in <paramref name="directory"/>; <paramref name="argument"/> names it in the failure.</summary>
    public static Principal Load(string argument, string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new CliFailure(ExitCode.BadInput, $"{argument} '{directory}' does not exist; expected a principal directory made by 'flowctl principal create'");
        }

        try
        {
            return Principal.Load(directory);
        }
        catch (FlowException e)
        {
            throw new CliFailure(ExitCode.BadInput, $"{argument} '{directory}' is not a usable principal ({e.Message}); expected a principal directory made by 'flowctl principal create'", e);
        }
    }

    /// <summary>Writes <paramref name="principal"/> back to <paramref name="directory"/>.</summary>
    public static void Save(string argument, Principal principal, string directory)
    {
        try
        {
            principal.Save(directory);
        }
        catch (FlowException e)
        {
            throw new CliFailure(ExitCode.BadInput, $"{argument} '{directory}' could not be written ({e.Message}); expected a writable directory", e);
        }
    }

    /// <summary>Creates a new principal in <paramref name="directory"/>, which must not exist or be empty.</summary>
    public static Principal Create(string argument, string directory)
    {
        if (File.Exists(directory) || (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any()))
        {
            throw new CliFailure(ExitCode.BadInput, $"{argument} '{directory}' already exists and is not empty; expected a new or empty directory (a principal is never overwritten)");
        }

        try
        {
            return Principal.LoadOrCreate(directory);
        }
        catch (FlowException e)
        {
            throw new CliFailure(ExitCode.BadInput, $"{argument} '{directory}' could not be created ({e.Message}); expected a writable path", e);
        }
    }
}
