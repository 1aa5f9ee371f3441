namespace FlowOrleans.Transport.Security;

/// <summary>What a third-party discharger wants to be told about the call it is asked to discharge for.</summary>
[Flags]
public enum ThirdPartyRequirements
{
    None = 0,

    /// <summary>The blessings the server presented.</summary>
    ReportServer = 1,

    /// <summary>The method being invoked.</summary>
    ReportMethod = 2,

    /// <summary>The method's arguments.</summary>
    ReportArguments = 4,
}
